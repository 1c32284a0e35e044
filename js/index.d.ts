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

export interface EndOptions {
  /** Close at once, without DISCONNECT: the broker publishes the will. */
  force?: boolean;
  /** ms to wait for in-flight messages before DISCONNECT (default 5000). */
  timeout?: number;
  /** Send DISCONNECT asking the broker to publish the will (MQTT 5 reason 0x04). */
  will?: boolean;
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
  /**
   * Seconds, 0..65535, 0 turns it off; a PINGREQ goes out every keepalive. Default 60. 'auto':
   * the adaptive heartbeat (5 s on a fast link, else 2.5 x the measured round trip with its
   * variance, at most 60 s; dead after three beats unanswered); not with pingTimeout.
   */
  keepalive?: number | 'auto';
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
  /** Smoothed PINGREQ -> PINGRESP round trip, ms, once measured. */
  rttMs?: number;
  /** The time between PINGREQs now, ms (0 while disconnected or with keepalive 0). */
  keepaliveIntervalMs: number;
  /** Messages received per second over the last few seconds. */
  messagesPerSecond: number;
  /** Where the session is kept now (see the 'storage' event). */
  persistence: 'indexeddb' | 'memory';
  /** Bytes of QoS 1/2 records in the publish journal (localStorage), not yet committed to IndexedDB. */
  journalBytes: number;
}

/** Every error wasmqtt raises, thrown or rejected or emitted: `error instanceof MqttError` holds. */
export class MqttError extends Error {
  constructor(code: string, message: string, options?: { cause?: unknown });
  name: 'MqttError';
  /** Stable code, e.g. 'INVALID_ARGUMENT', 'NOT_AUTHORIZED', 'QUEUE_FULL', 'JOURNAL_FULL', 'CONNECTION_FAILED', 'WRONG_SUBPROTOCOL', 'STORE_QUOTA_EXCEEDED', 'SESSION_TAKEN_OVER', 'LEADER_CHANGED'. */
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
  /** end() is done: the connection closed and everything released (as MQTT.js's 'end'). */
  end: () => void;
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
  end(options?: EndOptions): Promise<void>;
  /** MQTT.js's forms: end(force), end(force, cb), end(force, options, cb), end(cb). */
  end(force: boolean, callback?: (error?: MqttError) => void): Promise<void>;
  end(force: boolean, options: Omit<EndOptions, 'force'>, callback?: (error?: MqttError) => void): Promise<void>;
  end(callback: (error?: MqttError) => void): Promise<void>;
}

export function load(wasmUrl?: string | URL): Promise<unknown>;
export function connect(url: string | string[], options?: ClientOptions): Promise<MqttClient>;
