// wasmqtt's low-level codec (`wasmqtt/codec`): MQTT packets as plain objects to bytes and back,
// by the Rust codec, in a wasm of its own (a client bundle does not carry it). Packets cross into
// and out of wasm as records (layout in src/web/codec_record.rs, its constants read from the wasm
// at load): runs of u32 words read and written here through typed arrays over wasm memory, so
// that a chunk of packets costs a few calls into wasm, not a few per field. Checks of JavaScript
// types and ranges are made here, with the field's name; every protocol rule is the Rust codec's.
import init, { CodecEncoder, CodecParser, recordLayout, setErrorClass } from './wasmqtt_codec.js';
import { mqttError } from './errors.js';
import { wasmLoader } from './load.js';
import { pack, unpack } from './pack.js';

export { MqttError } from './errors.js';

// The record layout's constants (src/web/codec_record.rs, codec_api.rs), set by load().
let TYPES, HAS_PROPERTIES, HAS_WILL_PROPERTIES, TYPE_MASK, NO_PACKET_ID, REFUSED;
let HEADER, COUNT, FLAGS, START, CARRIED, FAILED, PROPERTIES;
let TYPE_NUMBERS;

let memory = null;
let heap = new Uint8Array(0);
let words = new Uint32Array(0);

/**
 * Loads the codec's wasm module once; the codec is synchronous after. `wasmUrl`: where to fetch
 * wasmqtt_codec_bg.wasm, when the default (beside this module) does not fit.
 */
export const load = wasmLoader({
  init,
  setErrorClass,
  file: 'wasmqtt_codec_bg.wasm',
  defaultUrl: () => new URL('wasmqtt_codec_bg.wasm', import.meta.url),
  loaded: (wasm) => {
    const layout = recordLayout();
    ({ TYPES, HAS_PROPERTIES, HAS_WILL_PROPERTIES, TYPE_MASK, NO_PACKET_ID, REFUSED } = layout);
    ({ HEADER, COUNT, FLAGS, START, CARRIED, FAILED, PROPERTIES } = layout.header);
    TYPE_NUMBERS = Object.fromEntries(TYPES.map((name, i) => [name, i]).filter(([name]) => name !== ''));
    memory = wasm.memory;
  },
});

/** Renews the views after wasm memory grew (growing detaches the old buffer). */
function refresh() {
  if (heap.byteLength === 0) {
    if (memory === null) throw mqttError('NOT_LOADED', 'the codec needs the wasm module: call and await load() (from wasmqtt/codec) first');
    heap = new Uint8Array(memory.buffer);
    words = new Uint32Array(memory.buffer);
  }
}

const invalid = (message) => mqttError('INVALID_ARGUMENT', message);

function checkVersion(version) {
  if (version !== 3 && version !== 4 && version !== 5) {
    throw invalid('version must be 3 (MQTT 3.1), 4 (3.1.1) or 5 (5.0)');
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

const utf8 = new TextDecoder();

/** A string of the record; short ASCII ones are built by hand, which beats TextDecoder. */
function text(at, len) {
  if (len <= 64) {
    let s = '';
    for (let i = at, end = at + len; i < end; i++) {
      const c = heap[i];
      if (c > 0x7f) return utf8.decode(heap.subarray(at, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(heap.subarray(at, at + len));
}

// Encoded packets are new bytes for the application. A fresh ArrayBuffer for each costs more
// than the rest of encoding a small packet, so, as Node's Buffer pool does, they are views into
// shared slabs: the bytes of each are its own and never change, only their `.buffer` is shared.
const SLAB = 64 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

function allocate(len) {
  if (len > SLAB / 4) return new Uint8Array(len);
  if (slabUsed + len > slab.length) {
    slab = new Uint8Array(SLAB);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + len);
  slabUsed += (len + 7) & ~7;
  return out;
}

// Where the bytes of the current push are: `input` is what the application gave, copied into
// wasm memory behind `carried` bytes left from earlier pushes, starting at `bufferStart`.
let input = null; // its ArrayBuffer
let inputOffset = 0;
let bufferStart = 0;
let carried = 0;

/**
 * A binary field or payload at `at` in wasm memory: a view of the application's input when it
 * lies there, as MQTT.js gives one (decoding copies nothing then), else (it began in an earlier
 * push) a copy of its own, since wasm memory is reused.
 */
function binary(at, len) {
  const offset = at - bufferStart - carried;
  // A plain Uint8Array even when the input is a subclass such as Node's Buffer.
  if (offset >= 0) return new Uint8Array(input, inputOffset + offset, len);
  return heap.slice(at, at + len);
}

/** Feeds `bytes` to a CodecParser and turns its record into packet objects. */
function parse(raw, bytes) {
  if (!(bytes instanceof Uint8Array)) {
    if (!(bytes instanceof ArrayBuffer)) throw invalid('bytes must be a Uint8Array or an ArrayBuffer');
    bytes = new Uint8Array(bytes);
  }
  const at = raw.input(bytes.length);
  refresh();
  heap.set(bytes, at);
  const record = raw.push(bytes.length) >>> 2;
  refresh();
  const count = words[record + COUNT];
  const flags = words[record + FLAGS];
  input = bytes.buffer;
  inputOffset = bytes.byteOffset;
  bufferStart = words[record + START];
  carried = words[record + CARRIED];
  let properties = null;
  if ((flags & PROPERTIES) !== 0) {
    // Packed by src/api/props.rs for the whole chunk at once, before the record is read: this call may
    // grow wasm memory, which moves the views.
    properties = unpack(raw.properties());
    refresh();
  }
  const w = words;
  const packets = new Array(count);
  let k = 0;
  let i = record + HEADER;
  for (let n = 0; n < count; n++) {
    const head = w[i++];
    let packet;
    switch (head & TYPE_MASK) {
      case 1: {
        packet = { type: 'connect', protocolVersion: w[i], clientId: text(w[i + 4], w[i + 5]), clean: w[i + 2] === 1, keepalive: w[i + 3] };
        if (w[i + 1] === 1) packet.bridge = true;
        i += 6;
        if (w[i++] === 1) {
          packet.will = { topic: text(w[i + 2], w[i + 3]), payload: binary(w[i + 4], w[i + 5]), qos: w[i], retain: w[i + 1] === 1 };
          i += 6;
        }
        if (w[i++] === 1) {
          packet.username = text(w[i], w[i + 1]);
          i += 2;
        }
        if (w[i++] === 1) {
          packet.password = binary(w[i], w[i + 1]);
          i += 2;
        }
        break;
      }
      case 2:
        packet = { type: 'connack', sessionPresent: w[i] === 1, reasonCode: w[i + 1] };
        i += 2;
        break;
      case 3: {
        const packetId = w[i + 3];
        packet = { type: 'publish', topic: text(w[i + 4], w[i + 5]), payload: binary(w[i + 6], w[i + 7]), qos: w[i], retain: w[i + 1] === 1, dup: w[i + 2] === 1 };
        if (packetId !== NO_PACKET_ID) packet.packetId = packetId;
        i += 8;
        break;
      }
      case 4: case 5: case 6: case 7:
        packet = { type: TYPES[head & TYPE_MASK], packetId: w[i], reasonCode: w[i + 1] };
        i += 2;
        break;
      case 8: {
        const subscriptions = new Array(w[i + 1]);
        const packetId = w[i];
        i += 2;
        for (let s = 0; s < subscriptions.length; s++) {
          subscriptions[s] = { filter: text(w[i], w[i + 1]), qos: w[i + 2], noLocal: w[i + 3] === 1, retainAsPublished: w[i + 4] === 1, retainHandling: w[i + 5] };
          i += 6;
        }
        packet = { type: 'subscribe', packetId, subscriptions };
        break;
      }
      case 9: case 11: {
        const packetId = w[i];
        const end = i + 2 + w[i + 1];
        packet = { type: TYPES[head & TYPE_MASK], packetId, reasonCodes: Array.from(w.subarray(i + 2, end)) };
        i = end;
        break;
      }
      case 10: {
        const filters = new Array(w[i + 1]);
        const packetId = w[i];
        i += 2;
        for (let f = 0; f < filters.length; f++, i += 2) filters[f] = text(w[i], w[i + 1]);
        packet = { type: 'unsubscribe', packetId, filters };
        break;
      }
      case 12: case 13:
        packet = { type: TYPES[head & TYPE_MASK] };
        break;
      default: // 14 DISCONNECT, 15 AUTH
        packet = { type: TYPES[head & TYPE_MASK], reasonCode: w[i++] };
    }
    if ((head & HAS_PROPERTIES) !== 0) packet.properties = properties[k++];
    if ((head & HAS_WILL_PROPERTIES) !== 0) packet.will.properties = properties[k++];
    packets[n] = packet;
  }
  input = null;
  if ((flags & FAILED) !== 0) {
    const error = raw.error();
    // Nothing is lost: the packets before the bad one come with the error.
    error.packets = packets;
    throw error;
  }
  return packets;
}

/**
 * Cuts packets out of a byte stream that arrives in pieces of any size (WebSocket messages may
 * hold part of a packet, one, or several: MQTT-6.0.0-2).
 */
export class PacketParser {
  #raw;

  /** `version`: 3 (MQTT 3.1), 4 (3.1.1) or 5 (5.0); `maxPacketSize` in bytes, 0 for no limit. */
  constructor(version = 5, maxPacketSize = 0) {
    refresh();
    checkVersion(version);
    if (!Number.isInteger(maxPacketSize) || maxPacketSize < 0 || maxPacketSize > 0xffffffff) {
      throw invalid('maxPacketSize must be a whole number from 0 to 4294967295');
    }
    this.#raw = new CodecParser(version, maxPacketSize);
  }

  /**
   * Adds received bytes; returns the packets they complete (maybe none). Throws an MqttError
   * whose `reasonCode` is the MQTT 5 reason code for a malformed or oversized packet; the packets
   * before it are on the error's `packets`. The parser fails for good then.
   */
  push(bytes) {
    return parse(this.#live(), bytes);
  }

  /** Bytes received and not yet returned as packets. */
  get buffered() {
    return this.#live().buffered;
  }

  /** Releases the parser's wasm memory now rather than when it is garbage collected. */
  free() {
    this.#raw?.free();
    this.#raw = undefined;
  }

  #live() {
    if (this.#raw === undefined) throw mqttError('INVALID_STATE', 'this PacketParser was freed');
    return this.#raw;
  }
}

/**
 * Decodes `bytes`, which must hold whole packets only. Throws an MqttError with the MQTT 5 reason
 * code on a malformed packet or one cut short.
 */
export function decodePackets(bytes, version = 5) {
  refresh();
  checkVersion(version);
  const raw = new CodecParser(version, 0);
  try {
    const packets = parse(raw, bytes);
    const error = raw.finish();
    if (error !== undefined) {
      error.packets = packets;
      throw error;
    }
    return packets;
  } finally {
    raw.free();
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

let encoder = null;
let record = 0; // where the record starts in `words`
let recordCap = 0;
let region = 0; // where the byte region starts in `heap`
let regionCap = 0;
let recordLen = 0; // words written
let regionLen = 0; // bytes written

function reserve(wordsNeeded, bytesNeeded) {
  if (wordsNeeded <= recordCap && bytesNeeded <= regionCap) return;
  encoder ??= new CodecEncoder();
  if (wordsNeeded > recordCap) recordCap = Math.max(recordCap * 2, wordsNeeded, 64);
  if (bytesNeeded > regionCap) regionCap = Math.max(regionCap * 2, bytesNeeded, 4096);
  encoder.reserve(recordCap, regionCap);
  record = encoder.record_ptr() >>> 2;
  region = encoder.bytes_ptr();
  refresh();
}

function put(value) {
  words[record + recordLen++] = value;
}

function int(value, name, min, max) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

const optInt = (value, name, min, max, fallback) => (value === undefined ? fallback : int(value, name, min, max));

function flag(value, name, fallback) {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${name} must be a boolean`);
  return value ? 1 : 0;
}

const utf8Encoder = new TextEncoder();

/** Writes a string's UTF-8 into the byte region and its offset and length into the record. */
function putText(value) {
  const n = value.length;
  reserve(0, regionLen + n * 3);
  const at = region + regionLen;
  let len = 0;
  if (n <= 64) {
    for (; len < n; len++) {
      const c = value.charCodeAt(len);
      if (c > 0x7f) break;
      heap[at + len] = c;
    }
  }
  if (len < n) len += utf8Encoder.encodeInto(len === 0 ? value : value.substring(len), heap.subarray(at + len, at + n * 3)).written;
  put(regionLen);
  put(len);
  regionLen += len;
}

function putString(value, name) {
  if (typeof value !== 'string') throw invalid(`${name} ${value === undefined ? 'is required' : 'must be a string'}`);
  putText(value);
}

/** Binary data or a payload: a Uint8Array, or a string taken as UTF-8. */
function putBinary(value, name) {
  if (typeof value === 'string') return putText(value);
  if (!(value instanceof Uint8Array)) throw invalid(`${name} must be a Uint8Array or a string`);
  const n = value.length;
  reserve(0, regionLen + n);
  heap.set(value, region + regionLen);
  put(regionLen);
  put(n);
  regionLen += n;
}

function object(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${name} must be an object`);
  return value;
}

function list(value, name) {
  if (!Array.isArray(value)) throw invalid(`${name} must be an array`);
  return value;
}

// The fields each packet type takes: a name outside these is a typo, and refused.
const FIELDS = {
  connect: ['type', 'protocolVersion', 'bridge', 'clientId', 'clean', 'keepalive', 'username', 'password', 'will', 'properties'],
  connack: ['type', 'sessionPresent', 'reasonCode', 'properties'],
  publish: ['type', 'topic', 'payload', 'qos', 'retain', 'dup', 'packetId', 'properties'],
  puback: ['type', 'packetId', 'reasonCode', 'properties'],
  subscribe: ['type', 'packetId', 'subscriptions', 'properties'],
  suback: ['type', 'packetId', 'reasonCodes', 'properties'],
  unsubscribe: ['type', 'packetId', 'filters', 'properties'],
  pingreq: ['type'],
  disconnect: ['type', 'reasonCode', 'properties'],
  will: ['topic', 'payload', 'qos', 'retain', 'properties'],
  subscription: ['filter', 'qos', 'noLocal', 'retainAsPublished', 'retainHandling'],
};
FIELDS.pubrec = FIELDS.pubrel = FIELDS.pubcomp = FIELDS.puback;
FIELDS.unsuback = FIELDS.suback;
FIELDS.pingresp = FIELDS.pingreq;
FIELDS.auth = FIELDS.disconnect;
for (const key of Object.keys(FIELDS)) FIELDS[key] = new Set(FIELDS[key]);

function checkFields(value, kind, name) {
  const known = FIELDS[kind];
  for (const key in value) {
    if (!known.has(key)) throw invalid(`unknown field ${name}.${key} (known: ${[...known].join(', ')})`);
  }
}

const EMPTY = new Uint8Array(0);

// The payload of the PUBLISH being encoded: its Uint8Array, or where its UTF-8 is in the byte
// region (a number) and its length; null for other packets.
let payload = null;
let payloadLen = 0;

/** Writes the record of `packet`; returns the will, whose properties travel separately. */
function writeRecord(packet, version) {
  recordLen = 0;
  regionLen = 0;
  payload = null;
  reserve(32, 0);
  const type = packet.type;
  const number = TYPE_NUMBERS[type];
  if (number === undefined) throw invalid(`packet.type must be one of ${TYPES.slice(1).join(', ')}`);
  checkFields(packet, type, type);
  put(number);
  switch (number) {
    case 1: {
      const level = packet.protocolVersion ?? version;
      if (level !== 3 && level !== 4 && level !== 5) throw invalid('connect.protocolVersion must be 3, 4 or 5');
      put(level);
      put(flag(packet.bridge, 'connect.bridge', 0));
      put(flag(packet.clean, 'connect.clean', 1));
      put(optInt(packet.keepalive, 'connect.keepalive', 0, 65535, 60));
      putString(packet.clientId ?? '', 'connect.clientId');
      const will = packet.will;
      if (will === undefined) {
        put(0);
      } else {
        checkFields(object(will, 'connect.will'), 'will', 'connect.will');
        put(1);
        put(optInt(will.qos, 'connect.will.qos', 0, 2, 0));
        put(flag(will.retain, 'connect.will.retain', 0));
        putString(will.topic, 'connect.will.topic');
        putBinary(will.payload ?? EMPTY, 'connect.will.payload');
      }
      put(packet.username === undefined ? 0 : 1);
      if (packet.username !== undefined) putString(packet.username, 'connect.username');
      put(packet.password === undefined ? 0 : 1);
      if (packet.password !== undefined) putBinary(packet.password, 'connect.password');
      return will;
    }
    case 2:
      put(flag(packet.sessionPresent, 'connack.sessionPresent', 0));
      put(optInt(packet.reasonCode, 'connack.reasonCode', 0, 255, 0));
      break;
    case 3:
      put(optInt(packet.qos, 'publish.qos', 0, 2, 0));
      put(flag(packet.retain, 'publish.retain', 0));
      put(flag(packet.dup, 'publish.dup', 0));
      put(packet.packetId === undefined ? NO_PACKET_ID : int(packet.packetId, 'publish.packetId', 0, 65535));
      putString(packet.topic, 'publish.topic');
      payload = packet.payload ?? EMPTY;
      if (typeof payload === 'string') {
        // Its UTF-8 goes through the byte region, from which encodePacket copies it.
        putText(payload);
        payload = words[record + recordLen - 2];
        payloadLen = words[record + recordLen - 1];
      } else {
        if (!(payload instanceof Uint8Array)) throw invalid('publish.payload must be a Uint8Array or a string');
        // Only its length: the bytes go straight from the application's array to the packet.
        put(0);
        put(payload.length);
      }
      break;
    case 4: case 5: case 6: case 7:
      put(int(packet.packetId, `${type}.packetId`, 0, 65535));
      put(optInt(packet.reasonCode, `${type}.reasonCode`, 0, 255, 0));
      break;
    case 8: {
      const subscriptions = list(packet.subscriptions, 'subscribe.subscriptions');
      reserve(3 + subscriptions.length * 6, 0);
      put(int(packet.packetId, 'subscribe.packetId', 0, 65535));
      put(subscriptions.length);
      subscriptions.forEach((s, n) => {
        const name = `subscribe.subscriptions[${n}]`;
        checkFields(object(s, name), 'subscription', name);
        putString(s.filter, `${name}.filter`);
        put(optInt(s.qos, `${name}.qos`, 0, 2, 0));
        put(flag(s.noLocal, `${name}.noLocal`, 0));
        put(flag(s.retainAsPublished, `${name}.retainAsPublished`, 0));
        put(optInt(s.retainHandling, `${name}.retainHandling`, 0, 2, 0));
      });
      break;
    }
    case 9: case 11: {
      const codes = packet.reasonCodes === undefined && number === 11 ? [] : list(packet.reasonCodes, `${type}.reasonCodes`);
      reserve(3 + codes.length, 0);
      put(int(packet.packetId, `${type}.packetId`, 0, 65535));
      put(codes.length);
      codes.forEach((code, n) => put(int(code, `${type}.reasonCodes[${n}]`, 0, 255)));
      break;
    }
    case 10: {
      const filters = list(packet.filters, 'unsubscribe.filters');
      reserve(3 + filters.length * 2, 0);
      put(int(packet.packetId, 'unsubscribe.packetId', 0, 65535));
      put(filters.length);
      filters.forEach((filter, n) => putString(filter, `unsubscribe.filters[${n}]`));
      break;
    }
    case 12: case 13:
      break;
    default: // 14 DISCONNECT, 15 AUTH
      put(optInt(packet.reasonCode, `${type}.reasonCode`, 0, 255, 0));
  }
  return undefined;
}

/**
 * Encodes one packet for `version` (3, 4 or 5; a CONNECT for its own `protocolVersion`). Throws
 * an MqttError `INVALID_ARGUMENT` naming the field for a bad packet object, with the MQTT 5
 * `reasonCode` when the packet breaks a protocol rule (e.g. a wildcard in a topic name).
 */
export function encodePacket(packet, version = 5) {
  refresh();
  checkVersion(version);
  object(packet, 'packet');
  const will = writeRecord(packet, version);
  const properties = packet.properties;
  const willProperties = will?.properties;
  const len = properties === undefined && willProperties === undefined
    ? encoder.encode(version)
    : encoder.encode_with_properties(version, pack(properties, willProperties));
  if (len === REFUSED) throw encoder.error();
  refresh();
  const at = encoder.out_ptr();
  if (payload === null) {
    const out = allocate(len);
    out.set(heap.subarray(at, at + len));
    return out;
  }
  // A PUBLISH: wasm wrote all but the payload.
  const body = typeof payload === 'number' ? heap.subarray(region + payload, region + payload + payloadLen) : payload;
  const out = allocate(len + body.length);
  out.set(heap.subarray(at, at + len));
  out.set(body, len);
  return out;
}
