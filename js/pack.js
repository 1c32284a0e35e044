// The packed form of the values that cross to and from the wasm (its layout is written once, in
// src/api/value.rs): arguments and options in, results and events out. Generic: it knows no option
// and no event, only the shapes of JavaScript values.
import { MqttError } from './errors.js';

const UNDEFINED = 0, NULL = 1, FALSE = 2, TRUE = 3, UINT = 4, FLOAT = 5, STRING = 6, BYTES = 7;
const ARRAY = 8, OBJECT = 9, OTHER = 10, END = 11, KIND = 12;
/** Kinds (src/api/value.rs `Kind`). */
const ERROR = 0, MESSAGE = 1;
/** Deeper values are packed as "other" (a cycle must not recurse for ever). */
const MAX_DEPTH = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

let buf = new Uint8Array(1024);
let view = new DataView(buf.buffer);
let at = 0;

function room(n) {
  if (at + n <= buf.length) return;
  const bigger = new Uint8Array(Math.max(buf.length * 2, at + n));
  bigger.set(buf.subarray(0, at));
  buf = bigger;
  view = new DataView(buf.buffer);
}

function varint(n) {
  room(8);
  while (n >= 0x80) {
    buf[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[at++] = n;
}

/**
 * A string's UTF-8 bytes, its length (+ `extra`: an object's key is written with its length + 1)
 * first, padded to 4 bytes when not known to fit in 1.
 */
function text(s, extra = 0) {
  const max = s.length * 3 + extra;
  room(max + 4);
  if (max < 0x80) {
    const { written } = encoder.encodeInto(s, buf.subarray(at + 1));
    buf[at] = written + extra;
    at += 1 + written;
    return;
  }
  const { written } = encoder.encodeInto(s, buf.subarray(at + 4));
  const n = written + extra;
  buf[at] = (n & 0x7f) | 0x80;
  buf[at + 1] = ((n >>> 7) & 0x7f) | 0x80;
  buf[at + 2] = ((n >>> 14) & 0x7f) | 0x80;
  buf[at + 3] = n >>> 21;
  at += 4 + written;
}

function put(v, depth) {
  room(10);
  switch (typeof v) {
    case 'undefined': buf[at++] = UNDEFINED; return;
    case 'boolean': buf[at++] = v ? TRUE : FALSE; return;
    case 'number':
      if (Number.isSafeInteger(v) && v >= 0) {
        buf[at++] = UINT;
        varint(v);
      } else {
        buf[at++] = FLOAT;
        view.setFloat64(at, v, true);
        at += 8;
      }
      return;
    case 'string': buf[at++] = STRING; text(v); return;
    case 'object':
      if (v === null) { buf[at++] = NULL; return; }
      if (depth >= MAX_DEPTH) break;
      if (v instanceof Uint8Array) {
        buf[at++] = BYTES;
        varint(v.length);
        room(v.length);
        buf.set(v, at);
        at += v.length;
        return;
      }
      if (Array.isArray(v)) {
        buf[at++] = ARRAY;
        for (const item of v) put(item, depth + 1);
        room(1);
        buf[at++] = END;
        return;
      }
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) break;
      buf[at++] = OBJECT;
      for (const key of Object.keys(v)) {
        text(key, 1); // its length + 1: 0 ends the object
        put(v[key], depth + 1);
      }
      room(1);
      buf[at++] = 0;
      return;
    default:
  }
  buf[at++] = OTHER;
  text(typeof v);
}

/** Packs running: a getter of a value being packed may itself call the client. */
let nested = 0;

/**
 * Packs `values` one after another. The result is a view of a buffer reused by the next call:
 * pass it to the wasm at once. A pack made while another is running (from a getter) packs into
 * a buffer of its own, and leaves the other's as it was.
 */
export function pack(...values) {
  const outer = nested++ > 0 ? [buf, view, at] : null;
  if (outer) {
    buf = new Uint8Array(256);
    view = new DataView(buf.buffer);
  }
  try {
    at = 0;
    for (const v of values) put(v, 0);
    return buf.subarray(0, at);
  } finally {
    nested--;
    if (outer) [buf, view, at] = outer;
  }
}

/**
 * Reads every value of `bytes`, in order. Errors are MqttErrors; a message is made with
 * `kinds.message` as its prototype and its payload as a `kinds.Payload` (a Uint8Array class).
 */
export function unpack(bytes, kinds = PLAIN) {
  let i = 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const uint = () => {
    let n = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const b = bytes[i++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
    }
  };
  const str = (len) => {
    const end = i + len;
    // Short ASCII (names, most topics) without a TextDecoder call.
    if (len <= 32) {
      let s = '';
      let j = i;
      for (; j < end && bytes[j] < 0x80; j++) s += String.fromCharCode(bytes[j]);
      if (j === end) {
        i = end;
        return s;
      }
    }
    const s = decoder.decode(bytes.subarray(i, end));
    i = end;
    return s;
  };
  // `Bytes`: the class of a byte array read here; `message`: the object to read a message into.
  const value = (Bytes = Uint8Array, message = null) => {
    switch (bytes[i++]) {
      case UNDEFINED: return undefined;
      case NULL: return null;
      case FALSE: return false;
      case TRUE: return true;
      case UINT: return uint();
      case FLOAT: i += 8; return dv.getFloat64(i - 8, true);
      case STRING: return str(uint());
      case BYTES: {
        const len = uint();
        i += len;
        return Bytes === Uint8Array ? bytes.slice(i - len, i) : new Bytes(bytes.subarray(i - len, i));
      }
      case ARRAY: {
        const items = [];
        while (bytes[i] !== END) items.push(value());
        i++;
        return items;
      }
      case OBJECT: {
        const object = message ?? {};
        // A message's own byte arrays (its payload) are of the message's class.
        const Field = message ? kinds.Payload : Uint8Array;
        for (let len = uint(); len !== 0; len = uint()) {
          const key = str(len - 1);
          object[key] = value(Field);
        }
        return object;
      }
      case KIND: {
        const kind = uint();
        if (kind === MESSAGE) return value(Uint8Array, Object.create(kinds.message));
        const v = value();
        return kind === ERROR ? asError(v) : v;
      }
      default: throw new Error(`wasmqtt: unreadable packed value at ${i - 1}`);
    }
  };
  const values = [];
  while (i < bytes.length) values.push(value());
  return values;
}

const PLAIN = { message: Object.prototype, Payload: Uint8Array };

/** An `MqttError` from its packed fields. */
function asError({ code, message, ...rest }) {
  return Object.assign(new MqttError(code, message), rest);
}

/** Whether a value from `unpack` is an error (a call's failure). */
export const isError = (v) => v instanceof MqttError;
