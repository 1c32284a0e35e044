// Types of wasmqtt's JavaScript API. Kept beside js/index.js and checked by compiling
// tests/types/example.ts with `tsc --noEmit` in `npm test`.

/** MQTT 5 properties, camelCase names; user properties as [key, value] pairs. */
export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /**
   * Of a received message: the identifier of the subscription it came through (assigned by the
   * client when the `subscriptionIdentifiers` option is on), or an array when the broker sent one
   * copy for several subscriptions. A number or an array on input too (SUBSCRIBE: one number).
   */
  subscriptionIdentifier?: number | number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQos?: number;
  retainAvailable?: number;
  /** In order, repeats allowed; an object `{ key: value | value[] }` is accepted on input. */
  userProperties?: Array<[string, string]> | Record<string, string | string[]>;
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifierAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

export type QoS = 0 | 1 | 2;
export type Payload = Uint8Array | string;

export interface WillOptions {
  topic: string;
  payload: Payload;
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 will properties, e.g. `{ willDelayInterval: 5 }`. */
  properties?: Properties;
}

/** A fixed delay before every attempt (MQTT.js's reconnectPeriod), given alone. */
export interface FixedReconnectOptions {
  /** ms before every attempt: no growth, no jitter. */
  period: number;
  /** As in ReconnectOptions. */
  maxAttempts?: number;
}

export interface ReconnectOptions {
  period?: never;
  /** Delay before the first retry, ms. Default 500. */
  minDelay?: number;
  /** Ceiling of the delay, ms. Default 30000. */
  maxDelay?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Share of each delay that is random, 0..1. Default 0.5. */
  jitter?: number;
  /** A connection up this long (ms) resets the backoff. Default 10000. */
  stableAfter?: number;
  /** Reconnect attempts in a row after which the client stops with a fatal RECONNECT_GAVE_UP (0: never, the default). */
  maxAttempts?: number;
}

export interface QueueOptions {
  /** Most messages kept while offline or waiting for the in-flight window. Default 10000. */
  maxMessages?: number;
  /** Most payload bytes kept. Default 16 MiB. */
  maxBytes?: number;
  /** 'backpressure' fires with `{ high: true }` above this share of either limit. Default 0.8. */
  highWatermark?: number;
  /** ...and with `{ high: false }` below this share. Default 0.5. */
  lowWatermark?: number;
  /** When full: reject the publish (default), or drop the oldest QoS 0 message first. QoS 1/2 messages are never dropped. */
  overflow?: 'reject' | 'drop-oldest-qos0';
}

export interface DedupOptions {
  /** Default true (MQTT 5 only: the id travels as a user property). */
  enabled?: boolean;
  /** The user property that carries the message id. Default 'wasmqtt-id'. */
  key?: string;
  /** How many ids are remembered. Default 10000. */
  windowSize?: number;
  /** How long an id is remembered, ms. Default 600000 (10 minutes). */
  windowMs?: number;
}

/** A challenge of MQTT 5 enhanced authentication (an AUTH packet from the broker). */
export interface AuthChallenge {
  /** The connect properties' `authenticationMethod`. */
  method: string;
  /** The broker's authentication data. */
  data?: Uint8Array;
  /** 0x18 (continue authentication). */
  reasonCode: number;
  properties: Properties;
}

export interface ClientOptions {
  /** 3 (MQTT 3.1), 4 (3.1.1) or 5 (5.0). Default 5. */
  protocolVersion?: 3 | 4 | 5;
  /** Default: a random id, which also means no session survives a reload. */
  clientId?: string;
  /** Start a new session (clean session / clean start). Default true. Set false, with a fixed clientId, for a persistent session. */
  clean?: boolean;
  /** Seconds, 0..65535, 0 turns it off. Default 60. */
  keepalive?: number;
  username?: string;
  /** Never written to the store. */
  password?: Payload;
  will?: WillOptions;
  /** MQTT 5 CONNECT properties, e.g. `{ sessionExpiryInterval: 3600 }`. */
  properties?: Properties;
  /** ms before an attempt to connect is given up. Default 30000. */
  connectTimeout?: number;
  /** Backoff between attempts, or false to never reconnect. */
  reconnect?: ReconnectOptions | FixedReconnectOptions | false;
  /** Where the session is kept: 'indexeddb' (default) or 'memory'. */
  persistence?: 'indexeddb' | 'memory';
  /** Most QoS 1/2 messages in flight at once (also capped by the broker's Receive Maximum). Default 65535. */
  maxInflight?: number;
  queue?: QueueOptions;
  dedup?: DedupOptions;
  /**
   * MQTT 5: most topic aliases used for this client's publishes (also capped by the broker's
   * Topic Alias Maximum); a topic published again goes out as a 2-byte alias. 0 turns them off.
   * Default 16. Aliases never outlive their connection; resent messages carry the full topic.
   */
  topicAliases?: number;
  /**
   * MQTT 5: give each subscription its own subscription identifier when the broker supports
   * them, so that each message reaches exactly the handlers of the subscriptions it matched,
   * once, however many copies the broker sends for overlapping subscriptions. Default true
   * (then `subscribe` takes no `subscriptionIdentifier` property).
   */
  subscriptionIdentifiers?: boolean;
  /**
   * Copies a broker may send for overlapping subscriptions when no subscription identifier
   * says which is which (MQTT 3.1.1, or a broker without identifiers). 'collapse' (default):
   * a message matching k of your subscriptions expects up to k - 1 copies (same topic and
   * payload, a fitting QoS, within 1 s, before another message on that topic) and drops them,
   * so each handler gets it once; with a broker that sends one copy, a quick repeat of the same
   * payload on the same topic can be taken for a copy. 'deliver': every copy is delivered.
   */
  overlapCopies?: 'collapse' | 'deliver';
  /**
   * MQTT 5 enhanced authentication: answers the broker's challenges (set
   * `properties.authenticationMethod`, and `authenticationData` if the method starts with
   * data). Returns (or resolves with) the data to send back; throwing abandons the connection
   * attempt (an 'error' with code AUTHENTICATION_FAILED; reconnects follow).
   */
  authenticate?: (challenge: AuthChallenge) => Uint8Array | string | Promise<Uint8Array | string>;
  /** Where to load wasmqtt_bg.wasm from, when the default (beside this module) does not fit. */
  wasmUrl?: string | URL;
  /**
   * With a fixed `clientId`: the tabs of one origin using this client id and broker share one
   * connection and session (a leader tab chosen with Web Locks, the others over a
   * BroadcastChannel; another tab takes over when the leader goes). Default true; false
   * connects this tab on its own. Needs Web Locks: else 'TABS_UNSUPPORTED'.
   */
  shareAcrossTabs?: boolean;
}

export interface PublishOptions {
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 PUBLISH properties. */
  properties?: Properties;
  /** An application message id for de-duplication; default: generated for QoS 1/2 when dedup is on. */
  messageId?: string;
}

export interface PublishResult {
  /** The broker's reason code (MQTT 5; 0 otherwise). */
  reasonCode: number;
}

export interface SubscribeOptions {
  /** Default 0; applies to filters given as strings. */
  qos?: QoS;
  properties?: Properties;
}

export interface Subscription {
  topic: string;
  qos?: QoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandling?: 0 | 1 | 2;
}

export interface RequestOptions {
  /** Default 0. */
  qos?: QoS;
  /** MQTT 5 PUBLISH properties (the client sets responseTopic and correlationData). */
  properties?: Properties;
  /** ms to wait for the response. Default 30000; Infinity waits for ever. */
  timeout?: number;
  /** Where responses go. Default: the broker's Response Information when asked for, else `wasmqtt/response/<clientId>`. */
  responseTopic?: string;
}

export interface SubscriptionResult {
  topic: string;
  /** The granted QoS, or undefined when the broker refused the filter. */
  qos?: QoS;
  reasonCode: number;
}

export interface Message {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  properties: Properties;
  /** The payload decoded as UTF-8. */
  readonly text: string;
}

export interface Metrics {
  connected: boolean;
  inflight: number;
  queued: number;
  queuedBytes: number;
  sent: number;
  received: number;
  duplicatesDropped: number;
  /** Copies for overlapping subscriptions dropped by `overlapCopies: 'collapse'`. */
  copiesDropped: number;
  /** Publishes sent with a topic alias instead of the topic. */
  topicAliasHits: number;
  reconnects: number;
  /** Last PINGREQ -> PINGRESP round trip, ms. */
  rttMs?: number;
  /** Messages received per second over the last few seconds. */
  messagesPerSecond: number;
  /** Where the session is kept now (see the 'storage' event). */
  persistence: 'indexeddb' | 'memory';
}

/** Every error wasmqtt raises, thrown or rejected or emitted: `error instanceof MqttError` holds. */
export class MqttError extends Error {
  constructor(code: string, message: string, options?: { cause?: unknown });
  name: 'MqttError';
  /** Stable code, e.g. 'INVALID_ARGUMENT', 'NOT_AUTHORIZED', 'QUEUE_FULL', 'CONNECTION_FAILED', 'WRONG_SUBPROTOCOL', 'STORE_QUOTA_EXCEEDED', 'SESSION_TAKEN_OVER', 'LEADER_CHANGED'. */
  code: string;
  /** The MQTT 5 reason code, where one applies. */
  reasonCode?: number;
  /** True when the client stopped for good (a permanent refusal or ended). */
  fatal?: boolean;
  /** With 'STORE_CORRUPT_RECORD': the key of the stored record that was skipped. */
  record?: string;
}

export interface ConnectEvent { sessionPresent: boolean; reasonCode: number; properties: Properties }
export interface ReconnectEvent { attempt: number; delayMs: number; url: string }
export interface CloseEvent { reason: string; code?: string; reasonCode?: number }
export interface BackpressureEvent { high: boolean; queued: number; queuedBytes: number }
export interface DuplicateEvent { messageId: string; topic: string }
/**
 * Where the session is kept now, and why that changed: 'memory' with an error when IndexedDB is
 * unavailable or a write failed (e.g. 'STORE_QUOTA_EXCEEDED'; the client stores the session again
 * once IndexedDB accepts it, with another event saying 'indexeddb'), or 'indexeddb' with a
 * 'STORE_CORRUPT_RECORD' error for a stored record that was skipped.
 */
export interface StorageEvent { persistence: 'indexeddb' | 'memory'; error?: MqttError }
export interface ReauthenticatedEvent { properties: Properties }

export interface ClientEvents {
  connect: (event: ConnectEvent) => void;
  reconnect: (event: ReconnectEvent) => void;
  offline: () => void;
  close: (event: CloseEvent) => void;
  error: (error: MqttError) => void;
  message: (topic: string, payload: Uint8Array, message: Message) => void;
  backpressure: (event: BackpressureEvent) => void;
  duplicate: (event: DuplicateEvent) => void;
  storage: (event: StorageEvent) => void;
  reauthenticated: (event: ReauthenticatedEvent) => void;
}

export class MqttClient {
  readonly ready: Promise<void>;
  readonly connected: boolean;
  constructor(url: string | string[], options?: ClientOptions);
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  off<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  once<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): this;
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<PublishResult>;
  subscribe(
    filters: string | Subscription | Array<string | Subscription>,
    options?: SubscribeOptions | ((message: Message) => void),
    handler?: (message: Message) => void,
  ): Promise<SubscriptionResult[]>;
  unsubscribe(filters: string | string[], options?: { properties?: Properties }): Promise<number[]>;
  messages(filter: string): AsyncIterableIterator<Message>;
  /** MQTT 5 request/response: resolves with the response; rejects with an MqttError (e.g. REQUEST_TIMEOUT). */
  request(topic: string, payload: Payload, options?: RequestOptions): Promise<Message>;
  /** Answers a request message on its response topic with its correlation data. */
  respond(message: Message, payload: Payload, options?: PublishOptions): Promise<PublishResult>;
  /** MQTT 5 enhanced authentication: re-authenticates on the live connection; resolves with the broker's properties. */
  reauthenticate(data?: Uint8Array | string): Promise<Properties>;
  metrics(): Metrics;
  end(options?: { force?: boolean; timeout?: number; will?: boolean }): Promise<void>;
}

export function load(wasmUrl?: string | URL): Promise<unknown>;
export function connect(url: string | string[], options?: ClientOptions): Promise<MqttClient>;

// ---------------------------------------------------------------------------------------------
// The low-level codec: packets as plain objects, discriminated by `type`. Synchronous; needs the
// wasm module loaded first (`await load()`). Decoded packets have every field listed without `?`
// (and `packetId`, `properties`, `will`, `username`, `password` when present); packets to encode
// may leave out what has a default (the `...Init` types).
//
// Decoded payloads and binary fields are views of the bytes given to `push`/`decodePackets`
// (copies when a field began in an earlier push): do not reuse those bytes afterwards. Encoded
// packets are views into shared 64 KiB slabs, as Node's Buffer pools small buffers: their bytes
// are their own and never change, but copy one (`.slice()`) before transferring its `.buffer`.

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
