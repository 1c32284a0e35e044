// Many tabs, one session: the tabs of one origin that use one client id share the leader tab's
// connection (see the README, "Many tabs, one session").
import { mqttError } from './errors.js';

/**
 * Many tabs, one session. Tabs of one origin that use one client id with one broker share one
 * connection: the tab holding the Web Lock named after the session (the leader) runs the
 * driver; the others (followers) send it their calls and get every event over a
 * BroadcastChannel of the same name, and route the messages to their own handlers. When the
 * leader goes, the browser hands the lock to a waiting follower, which loads the session from
 * IndexedDB and resumes it.
 *
 * Messages on the channel: { t, from, to?, ... } with t one of
 * hello (a tab joined) / state (the leader's answer) / leader (a new leader took over) /
 * call, accepted, settle (a follower's call and its outcome) / event (fan-out) /
 * metrics? and metrics.
 */
export class TabLink {
  follower = false;
  /** The leader's connection state, as a follower last heard it. */
  connected = false;
  /** Resolves once this tab knows whether it leads. */
  elected;
  #name;
  #client;
  #channel = null;
  #id = randomId();
  #release = null;
  #abort = new AbortController();
  #left = false;
  // Follower side: calls sent to the leader, by id.
  #calls = new Map();
  #metrics = null;
  #metricsText = null;
  // Leader side.
  #peers = false;
  #served = new Set();
  #onPageHide = (event) => this.#handOver(event);
  #handedOver = false;

  /** Whether this page can share: Web Locks exist only in secure contexts (https, localhost). */
  static supported() {
    return Boolean(globalThis.navigator?.locks) && typeof BroadcastChannel === 'function';
  }

  /** What a page that cannot share is told (an 'error' event; the client connects on its own). */
  static unsupportedError() {
    return mqttError('TABS_UNSUPPORTED', 'sharing one connection across tabs (shareAcrossTabs, on by default with a clientId) needs the Web Locks API (navigator.locks: secure contexts only, https or localhost) and BroadcastChannel, which this page does not offer; this tab connects on its own, so another tab with the same clientId would take the session over from it. Serve the page over https, or give each tab its own clientId (or pass shareAcrossTabs: false to silence this)');
  }

  constructor(name, client) {
    this.#name = name;
    this.#client = client;
  }

  /** Takes the lead if no tab has it, else follows; resolves once a leader's session is loaded or this tab follows. */
  elect() {
    this.#channel = new BroadcastChannel(this.#name);
    this.#channel.onmessage = (event) => this.#receive(event.data);
    let decided;
    this.elected = new Promise((resolve) => { decided = resolve; });
    const held = new Promise((resolve) => { this.#release = resolve; });
    return new Promise((resolve, reject) => {
      // An opaque origin (a sandboxed frame) may not use locks; no other tab shares its
      // storage either, so this tab connects on its own.
      const alone = () => {
        this.#channel?.close();
        this.#channel = null;
        decided();
        this.#client._lead().then(resolve, reject);
      };
      try {
        this.#request(resolve, (error) => (error?.name === 'SecurityError' ? alone() : reject(error)), decided, held);
      } catch {
        alone();
      }
    });
  }

  /** Asks for the lock: leads if it is free, else follows and queues for it. */
  #request(resolve, reject, decided, held) {
    navigator.locks.request(this.#name, { ifAvailable: true }, (lock) => {
        if (this.#left) return undefined;
        if (lock) {
          decided();
          globalThis.addEventListener?.('pagehide', this.#onPageHide);
          this.#client._lead().then(() => { this.#takeKept(); resolve(); }, reject);
          return held;
        }
        this.follower = true;
        decided();
        this.#post({ t: 'hello' });
        resolve();
        // Queued: the browser grants it when the leader's tab closes, reloads or crashes.
        navigator.locks.request(this.#name, { signal: this.#abort.signal }, () => {
          if (this.#left) return undefined;
          this.#promote();
          return held;
        }).catch(() => {});
        return undefined;
      }).catch(reject);
  }

  /** This follower got the lock: it loads the session and connects. */
  #promote() {
    this.follower = false;
    this.#followed(); // others were here: fan out from the start
    this.#post({ t: 'leader' });
    globalThis.addEventListener?.('pagehide', this.#onPageHide);
    // What the last leader handed over waits in the core, which judges it once loaded.
    this.#client._lead().catch(() => {});
    // A call the old leader never took runs here now.
    this.#resettle((call) => {
      this.#calls.delete(call.id);
      this.#client._core('forwardSettled', call.id);
      this.#client._request(call.op, call.args).then(call.resolve, call.reject);
    });
  }

  /**
   * The leader's page is going (closed, reloaded): the messages it received but had not yet
   * delivered go, as the core's bytes, to the page that resumes the session; its core decides
   * which of them to deliver (src/client/handover.rs).
   */
  #handOver(event) {
    // A page kept in the back/forward cache may come back with its client running.
    if (this.follower || this.#left || event?.persisted) return;
    const items = this.#client._core('handOver');
    // From here on the next leader delivers them: none goes out twice. Nothing more may arrive
    // here that neither this page delivers nor the items hold.
    this.#handedOver = true;
    this.#client._abandon();
    if (!items) return;
    if (this.#peers) this.#post({ t: 'tentative', items });
    // Alone: the next load of this tab takes them (a reload keeps sessionStorage).
    else keepForNextLoad(this.#name, items);
  }

  /** This tab leads after a reload: what its previous page handed over goes to the core. */
  #takeKept() {
    const kept = takeKeptFromLastLoad(this.#name);
    if (kept) this.#client._core('takeHandedOver', kept, true);
  }

  /** The leader went: the core says, for each call in flight, whether it goes `again` or fails. */
  #resettle(again) {
    for (const [id, error] of this.#client._core('leaderChanged') ?? []) {
      const call = this.#calls.get(id);
      if (!call) continue;
      if (!error) {
        again(call);
        continue;
      }
      this.#calls.delete(id);
      call.reject(error);
    }
  }

  call(op, args) {
    return new Promise((resolve, reject) => {
      const id = this.#client._core('forwardCall');
      if (id === undefined) {
        reject(mqttError('CLIENT_ENDED', 'the client has ended'));
        return;
      }
      const call = { id, op, args, resolve, reject };
      try {
        this.#post({ t: 'call', id, op, args });
      } catch (error) {
        this.#client._core('forwardSettled', id);
        reject(mqttError('INVALID_ARGUMENT', `cannot send this ${op} to the tab holding the connection: ${error?.message ?? error}`));
        return;
      }
      this.#calls.set(id, call);
    });
  }

  metrics() {
    this.#post({ t: 'metrics?' });
    return { ...(this.#metrics ?? {}), connected: this.connected };
  }

  /** The leader's metrics text as last heard (asking for a fresh one). */
  metricsText() {
    this.#post({ t: 'metrics?' });
    return this.#metricsText ?? '# EOF\n';
  }

  /** An event for the followers, as the core wrote it for them (a 'tab' event: [name, detail]). */
  share([event, detail]) {
    if (this.follower || this.#left || !this.#peers || this.#handedOver) return;
    this.#post({ t: 'event', event, detail: toWire(detail) });
  }

  /** Other tabs follow this one: the core writes its events for them from now on. */
  #followed() {
    if (this.#peers) return;
    this.#peers = true;
    this.#client._core('followed');
  }

  leave() {
    if (this.#left) return;
    this.#left = true;
    globalThis.removeEventListener?.('pagehide', this.#onPageHide);
    this.#abort.abort();
    this.#release?.();
    for (const call of this.#calls.values()) call.reject(mqttError('CLIENT_ENDED', 'the client has ended'));
    this.#calls.clear();
    this.#channel?.close();
  }

  #post(message) {
    this.#channel?.postMessage({ ...message, from: this.#id });
  }

  #receive(message) {
    if (this.#left || (message.to && message.to !== this.#id)) return;
    if (!this.follower) {
      this.#lead(message);
      return;
    }
    const call = this.#calls.get(message.id);
    switch (message.t) {
      case 'state':
        this.#metrics = message.metrics;
        this.#metricsText = message.text;
        if (message.connect && !this.connected) this.#event('connect', message.connect);
        if (message.fatal) this.#event('error', fromWire(message.fatal));
        else if (message.overdue && !message.connect) this.#event('overdue', fromWire(message.overdue));
        return;
      case 'leader':
        this.connected = false;
        this.#client._core('forgetHandedOver');
        this.#post({ t: 'hello' });
        this.#resettle((pending) => this.#post({ t: 'call', id: pending.id, op: pending.op, args: pending.args }));
        return;
      case 'accepted':
        if (call) this.#client._core('forwardAccepted', message.id);
        return;
      case 'settle':
        if (!call) return;
        this.#calls.delete(message.id);
        this.#client._core('forwardSettled', message.id);
        if (!message.ok) call.reject(fromWire(message.error));
        else call.resolve(message.value);
        return;
      case 'metrics':
        this.#metrics = message.metrics;
        this.#metricsText = message.text;
        return;
      case 'tentative':
        // Kept in the core in case this tab takes the lead next.
        this.#client._core('takeHandedOver', message.items, false);
        return;
      case 'event':
        this.#event(message.event, fromWire(message.detail));
        return;
      default:
    }
  }

  #event(event, detail) {
    if (event === 'connect') this.connected = true;
    if (event === 'close' || (event === 'error' && detail?.fatal)) this.connected = false;
    this.#client._remote(event, detail);
  }

  /** The leader's side of the channel. */
  #lead(message) {
    switch (message.t) {
      case 'hello':
        this.#followed();
        // What a tab joining later is told (the core's joinerState: the connection, or why
        // the first one is overdue, or the error that stopped the client).
        this.#post({ t: 'state', to: message.from, ...toWire(this.#client._core('joinerState')), metrics: this.#client.metrics(), text: this.#client.metricsText() });
        return;
      case 'metrics?':
        this.#post({ t: 'metrics', to: message.from, metrics: this.#client.metrics(), text: this.#client.metricsText() });
        return;
      case 'call': {
        const { from, id, op, args } = message;
        const key = `${from}:${id}`;
        if (!CALLS.has(op) || this.#served.has(key)) return;
        this.#served.add(key);
        this.#followed();
        const settle = (fields) => {
          this.#served.delete(key);
          if (!this.#left) this.#post({ t: 'settle', to: from, id, ...fields });
        };
        this.#client._request(op, args, () => this.#post({ t: 'accepted', to: from, id }))
          .then((value) => settle({ ok: true, value: op === 'request' ? { ...value } : value }),
            (error) => settle({ ok: false, error: toWire(error) }));
        return;
      }
      case 'event':
        // A message the previous leader sent out just before it went: still this tab's.
        if (message.event === 'message') this.#client._remote('message', message.detail);
        return;
      case 'tentative':
        // Handed over after this tab took the lead: the core judges them once loaded.
        this.#client._core('takeHandedOver', message.items, false);
        return;
      default:
    }
  }
}

/** What a follower may ask the leader to run. */
const CALLS = new Set(['publish', 'subscribe', 'unsubscribe', 'request', 'respond']);

function randomId() {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
}

/** Errors cross the channel as plain objects: structured cloning keeps no `code`. */
function toWire(value) {
  if (value instanceof Error) {
    const { code, reasonCode, fatal, record } = value;
    return { $error: { message: value.message, code, reasonCode, fatal, record } };
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v instanceof Error ? toWire(v) : v]));
  }
  return value;
}

function fromWire(value) {
  const revive = (v) => {
    if (!v?.$error) return v;
    const { message, ...fields } = v.$error;
    const error = mqttError(fields.code, message);
    for (const [k, f] of Object.entries(fields)) if (f !== undefined) error[k] = f;
    return error;
  };
  if (value?.$error) return revive(value);
  if (value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

/** sessionStorage key of the messages a page handed to the next load of its tab. */
const keptKey = (name) => `${name}:handed-over`;

/** The bytes as a string of char codes 0-255 (sessionStorage keeps strings). */
function keepForNextLoad(name, bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x2000) text += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  try {
    globalThis.sessionStorage?.setItem(keptKey(name), text);
  } catch {
    // No storage (or full): the broker's redelivery is then taken for a duplicate, as before.
  }
}

function takeKeptFromLastLoad(name) {
  try {
    const text = globalThis.sessionStorage?.getItem(keptKey(name));
    if (!text) return null;
    globalThis.sessionStorage.removeItem(keptKey(name));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
