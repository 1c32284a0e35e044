// Types of wasmqtt's low-level codec (`wasmqtt/codec`, js/codec.js), checked by compiling
// tests/types/codec.ts with `tsc --noEmit` in `npm test`.
//
// Packets as plain objects, discriminated by `type`. Synchronous; needs the codec's own wasm
// module loaded first (`await load()` from 'wasmqtt/codec'). Decoded packets have every field
// listed without `?` (and `packetId`, `properties`, `will`, `username`, `password` when present);
// packets to encode may leave out what has a default (the `...Init` types).
//
// Decoded payloads and binary fields are views of the bytes given to `push`/`decodePackets`
// (copies when a field began in an earlier push): do not reuse those bytes afterwards. Encoded
// packets are views into shared 64 KiB slabs, as Node's Buffer pools small buffers: their bytes
// are their own and never change, but copy one (`.slice()`) before transferring its `.buffer`.

import type { MqttError, Payload, Properties, QoS, WillOptions } from './index.js';

export { MqttError } from './index.js';
export type { Payload, Properties, QoS, WillOptions } from './index.js';

/** 3 (MQTT 3.1), 4 (3.1.1) or 5 (5.0). */
export type ProtocolVersion = 3 | 4 | 5;

export interface ConnectPacket {
  type: 'connect';
  protocolVersion: ProtocolVersion;
  /**
   * The protocol level has the bridge bit 0x80 (0x83 or 0x84, as mosquitto bridges send): only
   * with protocolVersion 3 or 4. Decoded as `true`, or absent.
   */
  bridge?: boolean;
  clientId: string;
  /** Clean session (3.1.1) / clean start (5.0). */
  clean: boolean;
  /** Seconds, 0 turns it off. */
  keepalive: number;
  username?: string;
  password?: Uint8Array;
  will?: { topic: string; payload: Uint8Array; qos: QoS; retain: boolean; properties?: Properties };
  properties?: Properties;
}

export interface ConnackPacket {
  type: 'connack';
  sessionPresent: boolean;
  /** The MQTT 5 reason code, or the 3.1.1 return code (0-5) as it is on the wire. */
  reasonCode: number;
  properties?: Properties;
}

export interface PublishPacket {
  type: 'publish';
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present exactly when qos > 0. */
  packetId?: number;
  properties?: Properties;
}

/** PUBACK, PUBREC, PUBREL and PUBCOMP. */
export interface AckPacket {
  type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';
  packetId: number;
  /** 0 for versions before 5. */
  reasonCode: number;
  properties?: Properties;
}

export interface SubscribePacket {
  type: 'subscribe';
  packetId: number;
  subscriptions: Array<{ filter: string; qos: QoS; noLocal: boolean; retainAsPublished: boolean; retainHandling: 0 | 1 | 2 }>;
  properties?: Properties;
}

export interface SubackPacket {
  type: 'suback';
  packetId: number;
  /** One per filter: the granted QoS, or a failure code (0x80 and up). */
  reasonCodes: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  type: 'unsubscribe';
  packetId: number;
  filters: string[];
  properties?: Properties;
}

export interface UnsubackPacket {
  type: 'unsuback';
  packetId: number;
  /** One per filter in MQTT 5; empty before. */
  reasonCodes: number[];
  properties?: Properties;
}

export interface PingPacket {
  type: 'pingreq' | 'pingresp';
}

/** DISCONNECT, and AUTH (MQTT 5 only). */
export interface DisconnectPacket {
  type: 'disconnect' | 'auth';
  /** 0 for versions before 5. */
  reasonCode: number;
  properties?: Properties;
}

/** A decoded packet. */
export type Packet =
  | ConnectPacket | ConnackPacket | PublishPacket | AckPacket | SubscribePacket | SubackPacket
  | UnsubscribePacket | UnsubackPacket | PingPacket | DisconnectPacket;

type Loose<P, K extends keyof P> = Omit<P, K> & Partial<Pick<P, K>>;

/** Defaults: protocolVersion the `version` argument, clientId '', clean true, keepalive 60. */
export type ConnectInit = Loose<Omit<ConnectPacket, 'password' | 'will'>, 'protocolVersion' | 'clientId' | 'clean' | 'keepalive'> & {
  password?: Payload;
  will?: WillOptions;
};
/** Defaults: sessionPresent false, reasonCode 0. */
export type ConnackInit = Loose<ConnackPacket, 'sessionPresent' | 'reasonCode'>;
/** Defaults: payload empty, qos 0, retain and dup false. */
export type PublishInit = Loose<Omit<PublishPacket, 'payload'>, 'qos' | 'retain' | 'dup'> & { payload?: Payload };
/** Default reasonCode 0. */
export type AckInit = Loose<AckPacket, 'reasonCode'>;
/** Defaults: qos 0, noLocal and retainAsPublished false, retainHandling 0. */
export type SubscribeInit = Omit<SubscribePacket, 'subscriptions'> & {
  subscriptions: Array<{ filter: string; qos?: QoS; noLocal?: boolean; retainAsPublished?: boolean; retainHandling?: 0 | 1 | 2 }>;
};
/** Default reasonCodes [] (what MQTT 3.1.1 has). */
export type UnsubackInit = Loose<UnsubackPacket, 'reasonCodes'>;
/** Default reasonCode 0. */
export type DisconnectInit = Loose<DisconnectPacket, 'reasonCode'>;

/** A packet to encode; any decoded `Packet` is one too. */
export type PacketInit =
  | ConnectInit | ConnackInit | PublishInit | AckInit | SubscribeInit | SubackPacket
  | UnsubscribePacket | UnsubackInit | PingPacket | DisconnectInit;

/**
 * Encodes one packet for `version` (default 5; a CONNECT for its own protocolVersion). Throws an
 * MqttError 'INVALID_ARGUMENT' naming the bad field, with the MQTT 5 `reasonCode` when the
 * packet breaks a protocol rule (e.g. a wildcard in a topic name: 0x81).
 */
export function encodePacket(packet: PacketInit, version?: ProtocolVersion): Uint8Array;

/**
 * Decodes bytes that hold whole packets (default version 5). Throws an MqttError whose
 * `reasonCode` is the MQTT 5 reason code (e.g. 0x81 'MALFORMED_PACKET') on a malformed packet or
 * one cut short; the packets before it are on the error's `packets`.
 */
export function decodePackets(bytes: Uint8Array | ArrayBuffer, version?: ProtocolVersion): Packet[];

/** An MqttError from decoding, with the packets decoded before the bad one. */
export interface DecodeError extends MqttError {
  reasonCode: number;
  packets: Packet[];
}

/** Cuts packets out of a byte stream that arrives in pieces of any size. */
export class PacketParser {
  /** `maxPacketSize`: bytes, fixed header included; 0 (default) for no limit. */
  constructor(version?: ProtocolVersion, maxPacketSize?: number);
  /**
   * Adds received bytes; returns the packets they complete, maybe none. Throws a DecodeError on
   * a malformed packet (0x81, 0x82...) or one over maxPacketSize (0x95); the parser fails for good.
   */
  push(bytes: Uint8Array | ArrayBuffer): Packet[];
  /** Bytes received and not yet returned as packets. */
  readonly buffered: number;
  /** Releases its wasm memory now rather than when garbage collected. */
  free(): void;
}

/**
 * Loads the codec's wasm module (wasmqtt_codec_bg.wasm, beside this module unless `wasmUrl` says
 * where) once; call and await it before the rest, which is synchronous.
 */
export function load(wasmUrl?: string | URL): Promise<unknown>;
