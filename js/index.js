// wasmqtt's JavaScript API: a thin, Promise-based facade over the wasm driver. All protocol
// behaviour (and option validation) lives in the Rust core; this file only turns the driver's
// events into Promises, listeners and async iterators. What crosses to the driver is packed
// (js/pack.js): a call's arguments in, its result and the events it made out.
import init, { Driver } from './wasmqtt.js';
import { MqttError, mqttError, closedError } from './errors.js';
import { wasmLoader } from './load.js';
import { pack, unpack, isError } from './pack.js';
import { TabLink } from './tabs.js';

export { MqttError };

let loaded = false;

/**
 * Loads the wasm module once. Called by `connect`; call it yourself to load early. (The codec,
 * `wasmqtt/codec`, has a wasm and a `load` of its own.)
 */
export const load = wasmLoader({
  init,
  file: 'wasmqtt_bg.wasm',
  defaultUrl: () => new URL('wasmqtt_bg.wasm', import.meta.url),
  loaded: () => { loaded = true; },
});

/**
 * Connects to `url` (or the first reachable of a list) and resolves with a client once the
 * broker accepted the connection. Settles within `connectTimeout`: rejects with an MqttError on a
 * bad option, a permanent refusal (bad credentials, not authorised, banned), or, when the
 * timeout passes unconnected, with the last attempt's failure (code and detail), and the client
 * is ended. For a client that queues while it keeps trying, use `new MqttClient`.
 */
export async function connect(url, options = {}) {
  await load(options?.wasmUrl);
  const client = new MqttClient(url, options);
  try {
    await client.ready;
  } catch (error) {
    await client.end({ force: true });
    throw error;
  }
  return client;
}

export class MqttClient {
  #driver;
  #listeners = new Map();
  #pending = new Map();
  #routes = new Map();
  /** ack: 'after-handler': the last error of each delivery whose handler failed. */
  #handlerErrors = new Map();
  #ended = false;
  #authenticate;
  /** The application's per-attempt functions (MQTT.js's transformWsUrl, and credentials). */
  #transformWsUrl;
  #credentials;
  /** The options as given, for transformWsUrl(url, options, client). */
  #options;
  /** The pending reauthenticate() call, if any. */
  #reauth = null;
  /** The link to the other tabs sharing this connection (shareAcrossTabs), or null. */
  #tabs = null;
  /** Settles `ready`: the first connection, a fatal error, or the connect timeout. */
  #readiness = null;
  /** end() released the driver. */
  #released = false;
  /** The current connection's 'connect' details (null while down), for late 'connect' listeners. */
  #connection = null;

  #loaded;
  /** The stored session is loaded in this tab's driver: calls reach the core at once. */
  #started = false;

  constructor(url, options = {}) {
    if (!loaded) {
      throw mqttError('NOT_LOADED', 'new MqttClient needs the wasm module: call and await load() first, or use `await connect(url, options)`, which loads it');
    }
    const { wasmUrl: _ignored, authenticate, shareAcrossTabs = true, transformWsUrl, credentials, ...driverOptions } = options ?? {};
    for (const [name, value] of Object.entries({ authenticate, transformWsUrl, credentials })) {
      if (value !== undefined && typeof value !== 'function') throw mqttError('INVALID_ARGUMENT', `${name} must be a function`);
    }
    this.#transformWsUrl = transformWsUrl;
    this.#credentials = credentials;
    this.#options = options;
    if (typeof shareAcrossTabs !== 'boolean') throw mqttError('INVALID_ARGUMENT', 'shareAcrossTabs must be a boolean');
    this.#authenticate = authenticate;
    const clientId = driverOptions.clientId;
    const wanted = shareAcrossTabs && typeof clientId === 'string' && clientId !== '';
    const shared = wanted && TabLink.supported();
    // A plain-http page (a LAN dashboard) has no Web Locks: it works on its own, and says so.
    if (wanted && !shared) queueMicrotask(() => this.#emit('error', TabLink.unsupportedError()));
    // Validates every option; a follower tab keeps it unstarted (its routes live here) until
    // it becomes the leader.
    // With transformWsUrl or credentials, the core asks before each attempt (#prepareAttempt).
    const prepare = Boolean(transformWsUrl || credentials);
    try {
      this.#driver = new Driver(pack(url, driverOptions, prepare), (batch) => this.#dispatchAll(unpack(batch, KINDS)));
    } catch (error) {
      throw error instanceof Uint8Array ? unpack(error)[0] : error;
    }
    const connected = new Promise((resolve, reject) => { this.#readiness = { resolve, reject }; });
    connected.catch(() => {});
    if (shared) {
      // The store's own name: the broker's identity and client id, no credential of the URL.
      this.#tabs = new TabLink(this.#driver.sessionName, this);
      this.#loaded = this.#tabs.elect();
    } else {
      // The stored session is loaded before anything else may touch the driver.
      this.#loaded = this.#start();
    }
    this.ready = this.#loaded.then(() => connected);
    this.ready.catch(() => {});
  }

  /**
   * Adds a listener: 'connect', 'reconnect', 'redirect', 'offline', 'close', 'error', 'message',
   * 'backpressure', 'alert', 'duplicate', 'storage', 'reauthenticated', 'end'. A 'connect'
   * listener added while connected (after `await connect()`) is called once at once with the
   * current connection's details, so that MQTT.js's `client.on('connect', () =>
   * client.subscribe(...))` works here too.
   */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(listener);
    if (event === 'connect' && this.#connection && this.connected) {
      const connection = this.#connection;
      queueMicrotask(() => {
        if (this.#listeners.get('connect')?.has(listener) && this.#connection === connection) callSafely(listener, connection);
      });
    }
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
  publish(topic, payload, options = {}, callback) {
    // MQTT.js's callback forms, publish(t, p, cb) and publish(t, p, opts, cb): called with
    // (error) or (null, result), as there; the Promise is returned either way.
    if (typeof options === 'function') [options, callback] = [{}, options];
    const result = this.#call('publish', [topic, payload, options]);
    if (typeof callback === 'function') result.then((value) => callback(null, value), (error) => callback(error));
    return result;
  }

  /**
   * Subscribes to one filter or several. `handler(message)` (optional) is called for each
   * message matching these filters. Resolves with one result per filter:
   * `{ topic, qos, reasonCode }` (qos is the granted QoS, or undefined when refused).
   */
  async subscribe(filters, options = {}, handler) {
    if (typeof options === 'function') [options, handler] = [{}, options];
    if (typeof handler === 'function' && handler.length >= 2) {
      // MQTT.js's subscribe callback is (error, granted); here the third argument is called
      // with each message, which such a callback would take for an error.
      throw mqttError('INVALID_ARGUMENT', "subscribe's handler is called with each message, handler(message); for the outcome, await subscribe(...) (it resolves with [{ topic, qos, reasonCode }] or rejects), as MQTT.js's (error, granted) callback would have told");
    }
    const list = (Array.isArray(filters) ? filters : [filters]).map((f) => (typeof f === 'string' ? { topic: f } : f));
    // Routes first, so that retained messages arriving with the SUBACK find their handler. A
    // subscription with its own `ack` gets a route even without a handler: the mode is its.
    const ack = options?.ack;
    const routed = handler || ack !== undefined;
    const routes = routed ? list.map(({ topic }) => this.#addRoute(topic, handler, ack)) : [];
    try {
      // One { qos, reasonCode } per filter from the core (qos undefined where refused).
      const granted = await this.#call('subscribe', [list, options]);
      return list.map(({ topic }, i) => ({ topic, ...granted[i] }));
    } catch (error) {
      for (const id of routes) this.#removeRoute(id);
      throw error;
    }
  }

  /** Unsubscribes and removes the handlers of these filters; resolves with one reason code per filter. */
  async unsubscribe(filters, options = {}) {
    const list = Array.isArray(filters) ? filters : [filters];
    const result = await this.#call('unsubscribe', [list, options]);
    for (const [id, route] of this.#routes) {
      if (list.includes(route.filter)) this.#removeRoute(id);
    }
    return result;
  }

  /**
   * Sends a request (MQTT 5 request/response): publishes `payload` on `topic` with a response
   * topic and fresh correlation data, and resolves with the reply (a Message). The client
   * subscribes to the response topic once (default: the broker's Response Information when
   * `properties.requestResponseInformation` was 1 at connect, else `wasmqtt/response/<clientId>`).
   * Rejects with an MqttError: REQUEST_TIMEOUT after `timeout` ms (default 30000; Infinity
   * waits for ever), or when the broker refuses the request or the subscription.
   */
  request(topic, payload, options = {}) {
    const { timeout = 30_000, ...rest } = options ?? {};
    const driverOptions = timeout === Infinity ? rest : { ...rest, timeout };
    return this.#call('request', [topic, payload, driverOptions]);
  }

  /**
   * Answers a request `message` (one with `properties.responseTopic`): publishes `payload` on
   * its response topic with its correlation data. Options as for publish; resolves as publish.
   */
  respond(message, payload, options = {}) {
    return this.#call('respond', [{ ...message }, payload, options]);
  }

  /**
   * Re-authenticates on the live connection (MQTT 5 enhanced authentication, with an
   * `authenticationMethod` in the connect properties): sends `data`, answers the broker's
   * challenges through the `authenticate` option, and resolves with the broker's final
   * properties; rejects if the broker refuses (it disconnects) or the connection is lost.
   */
  async reauthenticate(data) {
    await this.#loaded;
    if (this.#ended) throw closedError();
    if (this.#tabs?.follower) throw mqttError('NOT_LEADER_TAB', 'reauthenticate runs in the tab that holds the shared connection');
    return new Promise((resolve, reject) => {
      this.#reauth = { resolve, reject };
      try {
        this.#sync('reauthenticate', data);
      } catch (error) {
        this.#reauth = null;
        throw error; // a typed MqttError: the Promise rejects
      }
    });
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
    return this.#tabs?.follower ? this.#tabs.metrics() : this.#sync('metrics');
  }

  /** The metrics in the OpenMetrics text format, for a Prometheus-style collector. */
  metricsText() {
    return this.#tabs?.follower ? this.#tabs.metricsText() : this.#sync('metricsText');
  }

  /** Whether the client has a live connection to the broker now (in any tab sharing it). */
  get connected() {
    if (this.#released) return false;
    return this.#tabs?.follower ? this.#tabs.connected : this.#driver.connected;
  }

  /**
   * Disconnects and releases everything. By default waits for in-flight publishes to be
   * acknowledged (or `timeout` ms), then sends DISCONNECT, so the broker discards the will;
   * `{ will: true }` asks it to publish the will all the same. With `{ force: true }` closes at
   * once without DISCONNECT, so the broker publishes the will (what is persisted stays persisted
   * and resumes on the next connect).
   */
  end(options = {}, ...rest) {
    // MQTT.js's forms: end(force), end(force, cb), end(force, opts, cb), end(cb).
    if (typeof options === 'function') [options, rest] = [{}, [options]];
    const callback = typeof rest.at(-1) === 'function' ? rest.at(-1) : null;
    if (typeof options === 'boolean') options = { ...(rest.length > 1 ? rest[0] : {}), force: options };
    const ended = this.#end(options);
    if (callback) ended.then(() => callback(), (error) => callback(error));
    return ended;
  }

  async #end(options) {
    try {
      Driver.checkEnd(pack(options));
    } catch (error) {
      throw error instanceof Uint8Array ? unpack(error)[0] : error;
    }
    if (this.#ended) return;
    this.#ended = true;
    await this.#tabs?.elected;
    await this.#loaded.catch(() => {});
    try {
      if (!this.#tabs?.follower) await this.#driver.end(pack(options));
    } finally {
      this.#tabs?.leave();
      this.#driver.free();
      this.#released = true;
      for (const { reject } of this.#pending.values()) reject(closedError());
      this.#pending.clear();
      this.#reauth?.reject(closedError());
      this.#reauth = null;
    }
    // As MQTT.js: 'end' once end() is done (the connection closed, everything released).
    this.#emit('end');
  }

  /**
   * Drops the current connection, if any (with DISCONNECT, so the broker discards the will), and
   * starts a new attempt now, skipping the backoff wait, also after the client stopped trying;
   * the session, its queue and subscriptions stay. Returns the client, as MQTT.js's does. After
   * end() it throws CLIENT_ENDED: an ended client let go of everything; connect() again.
   */
  reconnect() {
    if (this.#ended) {
      throw mqttError('CLIENT_ENDED', 'reconnect() after end(): an ended client has let go of its connection and store; call connect(url, options) (or new MqttClient) for a new one, which resumes the stored session');
    }
    if (this.#tabs?.follower) throw mqttError('NOT_LEADER_TAB', 'reconnect runs in the tab that holds the shared connection');
    // Once the stored session is loaded (the core decides what reconnecting means).
    this.#loaded.then(() => { if (!this.#ended) this.#sync('reconnect'); }, () => {});
    return this;
  }

  /** For the core, before each attempt (an 'attempt' event): the URL and credentials the
   * application computes for it, or why they could not be computed. */
  async #prepareAttempt({ id, url }) {
    let answer;
    try {
      answer = await this.#computeAttempt(url);
    } catch (error) {
      if (!this.#released) this.#sync('attemptSetup', id, undefined, String(error?.message ?? error));
      return;
    }
    if (!this.#released) this.#sync('attemptSetup', id, answer);
  }

  async #computeAttempt(url) {
    const run = async (name, f) => {
      try {
        return await f();
      } catch (error) {
        throw new Error(`${name} failed: ${error?.message ?? error}`);
      }
    };
    const wsUrl = this.#transformWsUrl ? await run('transformWsUrl', () => this.#transformWsUrl(url, this.#options, this)) : undefined;
    const credentials = this.#credentials ? await run('credentials', () => this.#credentials({ url: wsUrl ?? url })) : undefined;
    return { url: wsUrl, credentials };
  }

  /** Answers an authentication challenge through the `authenticate` option. */
  async #answer({ exchange, method, data, reasonCode, properties }) {
    let answer;
    try {
      if (!this.#authenticate) throw new Error('no authenticate option to answer it');
      answer = await this.#authenticate({ method, data, reasonCode, properties });
    } catch (error) {
      if (this.#ended) return;
      this.#sync('abortAuthentication');
      this.#emit('error', mqttError('AUTHENTICATION_FAILED', `the broker's authentication challenge was not answered: ${error?.message ?? error}`));
      return;
    }
    if (this.#ended) return;
    try {
      this.#sync('authenticate', exchange, answer);
    } catch (error) {
      // A challenge of a connection that is gone needs no answer; bad data ends the exchange.
      if (error.code === 'NO_AUTHENTICATION_CHALLENGE') return;
      this.#sync('abortAuthentication');
      this.#emit('error', error);
    }
  }

  /** Runs a driver call here, or, in a follower tab, in the leader tab. */
  #call(op, args) {
    // Once loaded, a call reaches the core before it returns: a QoS 1/2 publish is then in the
    // journal at the end of this task, safe from a reload (README, reliability).
    if (this.#started) return this._request(op, args);
    return this.#callLater(op, args);
  }

  async #callLater(op, args) {
    await this.#tabs?.elected;
    if (this.#tabs?.follower) {
      if (this.#ended) throw closedError();
      const value = await this.#tabs.call(op, args);
      return op === 'request' ? asMessage(value) : value;
    }
    return this._request(op, args);
  }

  /** For TabLink: the tab won the election; loads the stored session and connects. */
  _lead() {
    this.#loaded = this.#start();
    return this.#loaded;
  }

  #start() {
    return this.#driver.start().then(() => { this.#started = true; });
  }

  /** For TabLink: a call of the core's tab rules (src/client/handover.rs, forwarded.rs):
   * followed, joinerState, handOver, takeHandedOver, forgetHandedOver, forwardCall, forwardAccepted,
   * forwardSettled, leaderChanged. Undefined once the driver is released. */
  _core(op, ...args) {
    return this.#released ? undefined : this.#sync(op, ...args);
  }

  /** For TabLink: the page is going and the next leader takes over: stop at once, with no
   * DISCONNECT (the will stays armed), so that nothing more is received here. */
  _abandon() {
    if (this.#ended) return;
    this.#ended = true;
    try {
      this.#driver.free(); // drops the socket and timer synchronously (Driver's Drop)
      this.#released = true;
    } catch {
      // Still loading (start() holds the driver): the page is going, and the socket with it.
    }
  }

  /** For TabLink: runs a call for another tab (or for this one, when it became the leader);
   * `accepted()` is called once the session took it. */
  _request(op, args, accepted) {
    if (this.#started) return this.#requestNow(op, args, accepted);
    return this.#loaded.then(() => this.#requestNow(op, args, accepted));
  }

  /** For TabLink: an event the leader tab sent out. */
  _remote(event, detail) {
    if (event !== 'message') return this.#dispatch(event, detail);
    const message = asMessage(detail.message);
    // This tab's routes, by the core's rule, from the leader's routing of the message.
    const routes = this.#sync('routeRemote', message.topic, message.properties?.subscriptionIdentifier, detail.primary, detail.named);
    for (const id of routes) {
      const route = this.#routes.get(id);
      if (route?.handler) callSafely(route.handler, message);
    }
    if (detail.primary) this.#emit('message', message.topic, message.payload, message);
  }

  #settle(token, ok, value) {
    const pending = this.#pending.get(token);
    if (!pending) return;
    this.#pending.delete(token);
    if (ok) pending.resolve(value);
    else pending.reject(value);
  }

  /** A call that the core settles later: its Promise is held under the call's token before
   * the events the call made (which may settle it at once) are dispatched. */
  #requestNow(op, args, accepted) {
    if (this.#ended) return Promise.reject(closedError());
    const [result, ...events] = this.#invoke(op, args);
    let settled;
    if (isError(result)) {
      settled = Promise.reject(result); // a bad argument or a refused call
    } else {
      accepted?.();
      settled = new Promise((resolve, reject) => this.#pending.set(result, { resolve, reject }));
    }
    this.#dispatchAll(events);
    return settled;
  }

  /** The driver's answer to a call: its result, then the events the call made. */
  #invoke(op, args) {
    return unpack(this.#driver.call(pack(op, ...args)), KINDS);
  }

  /** A call the core answers at once: its result, or its error thrown. */
  #sync(op, ...args) {
    const [result, ...events] = this.#invoke(op, args);
    this.#dispatchAll(events);
    if (isError(result)) throw result;
    return result;
  }

  #addRoute(filter, handler, ack) {
    const id = this.#sync('addRoute', filter, { ack });
    this.#routes.set(id, { filter, handler });
    return id;
  }

  #removeRoute(id) {
    if (this.#routes.delete(id)) this.#sync('removeRoute', id);
  }

  #settleReady(error) {
    if (error) this.#readiness?.reject(error);
    else this.#readiness?.resolve();
    this.#readiness = null;
  }

  /** A batch of events from the driver: `[name, detail, name, detail, ...]`. */
  #dispatchAll(events) {
    for (let i = 0; i < events.length; i += 2) this.#dispatch(events[i], events[i + 1]);
  }

  #dispatch(event, detail) {
    switch (event) {
      case 'connect':
        this.#connection = detail;
        this.#settleReady();
        this.#emit(event, detail);
        return;
      case 'error':
        if (detail.fatal) this.#settleReady(detail);
        this.#emit(event, detail);
        return;
      case 'overdue':
        // The first connection is not up within connectTimeout: `ready` rejects with the last
        // failure, and the client goes on trying (connect() ends it).
        this.#settleReady(detail);
        this.#emit('error', detail);
        return;
      case 'done':
        this.#settle(detail.token, true, detail.result);
        return;
      case 'failed':
        this.#settle(detail.token, false, detail.error);
        return;
      case 'response':
        this.#settle(detail.token, true, detail.message);
        return;
      case 'attempt':
        this.#prepareAttempt(detail);
        return;
      case 'tab':
        this.#tabs?.share(detail);
        return;
      case 'auth':
        this.#answer(detail);
        return;
      case 'reauthenticated':
        this.#reauth?.resolve(detail.properties);
        this.#reauth = null;
        this.#emit(event, detail);
        return;
      case 'close':
        this.#connection = null;
        if (this.#reauth) {
          const error = mqttError(detail.code ?? 'CONNECTION_LOST', `the connection ended before the re-authentication did (${detail.reason})`);
          if (detail.reasonCode !== undefined) error.reasonCode = detail.reasonCode;
          this.#reauth.reject(error);
          this.#reauth = null;
        }
        this.#emit(event, detail);
        return;
      case 'message': {
        const { message } = detail;
        for (const id of detail.routes) {
          const route = this.#routes.get(id);
          if (route?.handler) callSafely(route.handler, message);
        }
        // A further copy for another overlapping subscription reaches only its own handlers.
        if (detail.primary) this.#emit('message', message.topic, message.payload, message);
        return;
      }
      case 'handle':
        this.#runHandlers(detail);
        return;
      case 'dead-letter': {
        // The handler's own error (the core only has its description).
        const error = this.#handlerErrors.get(detail.delivery) ?? new Error(detail.error);
        this.#handlerErrors.delete(detail.delivery);
        this.#emit('dead-letter', { message: detail.message, error, attempts: detail.attempts });
        return;
      }
      default:
        this.#emit(event, detail);
    }
  }

  /**
   * ack: 'after-handler': calls the handlers the core routed this delivery to, and the
   * 'message' listeners for its primary copy, awaits what they return, and tells the core how
   * they settled. The core decides what follows (the acknowledgement, a retry, a dead letter).
   */
  #runHandlers({ delivery, message, routes, primary }) {
    const calls = [];
    for (const id of routes) {
      const handler = this.#routes.get(id)?.handler;
      if (handler) calls.push(() => handler(message));
    }
    if (primary) {
      for (const listener of this.#listeners.get('message') ?? []) calls.push(() => listener(message.topic, message.payload, message));
    }
    const settled = calls.map((call) => {
      try {
        return call();
      } catch (error) {
        return Promise.reject(error);
      }
    });
    Promise.allSettled(settled).then((outcomes) => {
      const failure = outcomes.find((o) => o.status === 'rejected');
      if (failure) this.#handlerErrors.set(delivery, failure.reason);
      else this.#handlerErrors.delete(delivery);
      if (this.#released) return;
      const why = failure && String(failure.reason?.message ?? failure.reason);
      this.#sync('handlerDone', delivery, why);
    });
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

/**
 * Every delivered payload: a Uint8Array whose toString() decodes it (UTF-8, or 'hex' /
 * 'base64'), as MQTT.js's Buffer payloads do, instead of listing byte values.
 */
class Payload extends Uint8Array {
  toString(encoding = 'utf8') {
    switch (encoding) {
      case 'utf8': case 'utf-8': return decoder.decode(this);
      case 'hex': return Array.from(this, (b) => b.toString(16).padStart(2, '0')).join('');
      case 'base64': return btoa(Array.from(this, (b) => String.fromCharCode(b)).join(''));
      default: throw mqttError('INVALID_ARGUMENT', `payload.toString: encoding must be 'utf8', 'hex' or 'base64', not ${encoding}`);
    }
  }
}

/** How the driver's messages are built (js/pack.js). */
const KINDS = { message: MESSAGE, Payload };

/** A message from another tab (structured cloning keeps no prototype) as this tab's. */
function asMessage(message) {
  return Object.assign(Object.create(MESSAGE), message, { payload: new Payload(message.payload) });
}

function callSafely(listener, ...args) {
  try {
    listener(...args);
  } catch (error) {
    // An application handler that throws must not break delivery to the others.
    queueMicrotask(() => { throw error; });
  }
}
