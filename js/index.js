// wasmqtt's JavaScript API: a thin, Promise-based facade over the wasm driver. All protocol
// behaviour (and option validation) lives in the Rust core; this file only turns the driver's
// events into Promises, listeners and async iterators.
import init, { Driver } from './wasmqtt.js';
import { attachCodec } from './codec.js';

export { encodePacket, decodePackets, PacketParser } from './codec.js';

let loading = null;

/**
 * Loads the wasm module once. Called by `connect`; call it yourself to load early, and before
 * using the codec (`encodePacket`, `decodePackets`, `PacketParser`), which is synchronous.
 */
export function load(wasmUrl) {
  loading ??= init(wasmUrl === undefined ? undefined : { module_or_path: wasmUrl }).then((wasm) => {
    attachCodec(wasm.memory);
    return wasm;
  });
  return loading;
}

/**
 * Connects to `url` (or the first reachable of a list) and resolves with a client once the
 * broker accepted the connection; rejects with an MqttError on a bad option, a permanent refusal
 * (bad credentials, not authorised, banned) or when `connectTimeout` passes with no broker.
 */
export async function connect(url, options = {}) {
  await load(options.wasmUrl);
  const client = new MqttClient(url, options);
  await client.ready;
  return client;
}

export class MqttClient {
  #driver;
  #listeners = new Map();
  #pending = new Map();
  /** Settlements that arrived while the call that made their token was still running. */
  #early = new Map();
  #routes = new Map();
  #ended = false;

  #loaded;

  constructor(url, options = {}) {
    const { wasmUrl: _ignored, ...driverOptions } = options;
    this.#driver = new Driver(url, driverOptions, (event, detail) => this.#dispatch(event, detail));
    const connected = new Promise((resolve, reject) => {
      const onConnect = () => { this.off('error', onError); resolve(); };
      const onError = (error) => {
        if (!error.fatal) return;
        this.off('connect', onConnect);
        reject(error);
      };
      this.once('connect', onConnect);
      this.on('error', onError);
    });
    connected.catch(() => {});
    // The stored session is loaded before anything else may touch the driver.
    this.#loaded = this.#driver.start();
    this.ready = this.#loaded.then(() => connected);
    this.ready.catch(() => {});
  }

  /** Adds a listener: 'connect', 'reconnect', 'offline', 'close', 'error', 'message', 'backpressure', 'duplicate', 'storage'. */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    return this;
  }

  off(event, listener) {
    this.#listeners.get(event)?.delete(listener);
    return this;
  }

  once(event, listener) {
    const wrapped = (...args) => { this.off(event, wrapped); listener(...args); };
    return this.on(event, wrapped);
  }

  /**
   * Publishes `payload` (Uint8Array or string) on `topic`. Resolves when the broker acknowledged
   * it (QoS 1: PUBACK, QoS 2: PUBCOMP; QoS 0: once written to the socket) with the broker's
   * reason code; rejects with an MqttError.
   */
  publish(topic, payload, options = {}) {
    return this.#request(() => this.#driver.publish(topic, payload, options));
  }

  /**
   * Subscribes to one filter or several. `handler(message)` (optional) is called for each
   * message matching these filters. Resolves with one result per filter:
   * `{ topic, qos, reasonCode }` (qos is the granted QoS, or undefined when refused).
   */
  async subscribe(filters, options = {}, handler) {
    if (typeof options === 'function') [options, handler] = [{}, options];
    const list = (Array.isArray(filters) ? filters : [filters]).map((f) => (typeof f === 'string' ? { topic: f } : f));
    // Routes first, so that retained messages arriving with the SUBACK find their handler.
    const routes = handler ? list.map(({ topic }) => this.#addRoute(topic, handler)) : [];
    try {
      const codes = await this.#request(() => this.#driver.subscribe(list, options));
      return list.map(({ topic }, i) => ({ topic, qos: codes[i] < 0x80 ? codes[i] : undefined, reasonCode: codes[i] }));
    } catch (error) {
      for (const id of routes) this.#removeRoute(id);
      throw error;
    }
  }

  /** Unsubscribes and removes the handlers of these filters; resolves with one reason code per filter. */
  async unsubscribe(filters, options = {}) {
    const list = Array.isArray(filters) ? filters : [filters];
    const result = await this.#request(() => this.#driver.unsubscribe(list, options));
    for (const [id, route] of this.#routes) {
      if (list.includes(route.filter)) this.#removeRoute(id);
    }
    return result;
  }

  /**
   * An async iterator over the messages matching `filter` (already subscribed, or subscribe
   * separately). Breaking out of the loop stops it.
   */
  messages(filter) {
    const queue = [];
    let wake = null;
    let done = false;
    const id = this.#addRoute(filter, (message) => {
      queue.push(message);
      wake?.();
    });
    const stop = () => {
      done = true;
      this.#removeRoute(id);
      wake?.();
    };
    this.once('close', stop);
    return {
      [Symbol.asyncIterator]() { return this; },
      next: async () => {
        while (queue.length === 0 && !done) await new Promise((r) => { wake = r; });
        wake = null;
        if (queue.length > 0) return { value: queue.shift(), done: false };
        return { value: undefined, done: true };
      },
      return: async () => { stop(); return { value: undefined, done: true }; },
    };
  }

  /** A snapshot of the client's counters. */
  metrics() {
    return this.#driver.metrics();
  }

  /** Whether the client has a live connection to the broker now. */
  get connected() {
    return this.#driver.connected;
  }

  /**
   * Disconnects and releases everything. By default waits for in-flight publishes to be
   * acknowledged (or `timeout` ms); with `{ force: true }` closes at once (what is persisted stays
   * persisted and resumes on the next connect).
   */
  async end({ force = false, timeout = 5_000 } = {}) {
    if (this.#ended) return;
    this.#ended = true;
    await this.#loaded.catch(() => {});
    try {
      await this.#driver.end(force, timeout);
    } finally {
      this.#driver.free();
      for (const { reject } of this.#pending.values()) reject(closedError());
      this.#pending.clear();
    }
  }

  async #request(start) {
    await this.#loaded;
    if (this.#ended) throw closedError();
    return new Promise((resolve, reject) => {
      const token = start(); // throws on a bad argument: the Promise rejects with it
      const early = this.#early.get(token);
      if (!early) {
        this.#pending.set(token, { resolve, reject });
        return;
      }
      this.#early.delete(token);
      if (early.ok) resolve(early.value);
      else reject(early.value);
    });
  }

  #addRoute(filter, handler) {
    const id = this.#driver.addRoute(filter);
    this.#routes.set(id, { filter, handler });
    return id;
  }

  #removeRoute(id) {
    if (this.#routes.delete(id)) this.#driver.removeRoute(id);
  }

  #dispatch(event, detail) {
    switch (event) {
      case 'done':
      case 'failed': {
        const pending = this.#pending.get(detail.token);
        if (!pending) {
          this.#early.set(detail.token, { ok: event === 'done', value: event === 'done' ? detail.result : detail.error });
          return;
        }
        this.#pending.delete(detail.token);
        if (event === 'done') pending.resolve(detail.result);
        else pending.reject(detail.error);
        return;
      }
      case 'message': {
        const message = Object.setPrototypeOf(detail.message, MESSAGE);
        for (const id of detail.routes) {
          const route = this.#routes.get(id);
          if (route) callSafely(route.handler, message);
        }
        this.#emit('message', message.topic, message.payload, message);
        return;
      }
      default:
        this.#emit(event, detail);
    }
  }

  #emit(event, ...args) {
    const listeners = this.#listeners.get(event);
    if (!listeners || listeners.size === 0) {
      // An 'error' nobody listens to still shows up, as a warning rather than an exception.
      if (event === 'error' && !args[0]?.fatal) console.warn('wasmqtt:', args[0]);
      return;
    }
    for (const listener of [...listeners]) callSafely(listener, ...args);
  }
}

const decoder = new TextDecoder();
/** The prototype of every delivered message: `text` decodes the payload on demand. */
const MESSAGE = Object.freeze({ get text() { return decoder.decode(this.payload); } });

function callSafely(listener, ...args) {
  try {
    listener(...args);
  } catch (error) {
    // An application handler that throws must not break delivery to the others.
    queueMicrotask(() => { throw error; });
  }
}

function closedError() {
  const error = new Error('the client has ended');
  error.name = 'MqttError';
  error.code = 'CLIENT_ENDED';
  return error;
}
