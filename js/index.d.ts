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
  /**
   * Follow an MQTT 5 server redirect (CONNACK or DISCONNECT 0x9C / 0x9D with a ws:// or wss://
   * Server Reference). Default true.
   */
  followRedirects?: boolean;
  /** Redirects followed at most per attempt (1 to 16). Default 3. */
  maxRedirects?: number;
  /**
   * Alert thresholds by metric name (see the 'alert' event), or false for none. A metric set to
   * false drops its default. Defaults: `{ queued: 1000, deliveryLagP99Ms: 5000, bytesHeldGrowth:
   * 8388608 }`; `oldestQueuedAgeMs` and `bytesHeld` may be added.
   */
  alerts?: AlertThresholds | false;
  /** Where the session is kept: 'indexeddb' (default) or 'memory'. */
  persistence?: 'indexeddb' | 'memory';
  /** Most QoS 1/2 messages in flight at once (also capped by the broker's Receive Maximum). Default 65535. */
  maxInflight?: number;
  /**
   * 'adaptive': the window under that cap follows the acknowledgements' latency (grows while
   * they come back fast, shrinks when they slow down), so a slow link or broker holds a short
   * queue on the way. Default 'fixed': the cap itself.
   */
  inflightWindow?: 'fixed' | 'adaptive';
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
   * When an inbound QoS 1/2 message is acknowledged (README, "What is guaranteed"):
   * 'on-receipt' (default) once its receipt is durable, before the handler; 'after-handler'
   * only once its handlers (and the 'message' listeners, for the primary copy) settled, which
   * may be async. Then QoS 1's PUBACK and QoS 2's PUBREC wait for them and for the durable mark
   * that they ran; a page that dies first gets the message again. A subscription's own `ack`
   * wins for its messages.
   */
  ack?: AckMode;
  /** With 'after-handler': messages handled at once (the rest wait, in order). Default 1, which keeps the broker's order. */
  handlerConcurrency?: number;
  /** With 'after-handler': further attempts after a handler throws or rejects, before the 'dead-letter' event. Default 3. */
  handlerRetries?: number;
  /** With 'after-handler': ms before the first retry; each next one doubles. Default 1000. */
  handlerRetryDelay?: number;
  /** With 'after-handler': most topic and payload bytes of QoS 0 messages waiting for a handler; the oldest are dropped (metrics().handlerQos0Dropped). Default 1 MiB. */
  handlerQueueMaxBytes?: number;
  /**
   * MQTT 5 enhanced authentication: answers the broker's challenges (set
   * `properties.authenticationMethod`, and `authenticationData` if the method starts with
   * data). Returns (or resolves with) the data to send back; throwing abandons the connection
   * attempt (an 'error' with code AUTHENTICATION_FAILED; reconnects follow).
   */
  authenticate?: (challenge: AuthChallenge) => Uint8Array | string | Promise<Uint8Array | string>;
  /**
   * As MQTT.js's: called before each connection attempt with the configured URL, the options as
   * given and the client; returns (or resolves with) the URL to open for that attempt, e.g. a
   * freshly signed one (AWS IoT SigV4, Azure SAS). Its time counts against `connectTimeout`;
   * throwing or rejecting fails that attempt (an 'error' ATTEMPT_SETUP_FAILED) and the next one
   * follows the backoff. The URL is used for that attempt only and never stored: the stored
   * session stays named after the configured URL.
   */
  transformWsUrl?: (url: string, options: ClientOptions, client: MqttClient) => string | Promise<string>;
  /**
   * Called before each connection attempt (after `transformWsUrl`, with the URL it gave): the
   * user name and password for that attempt's CONNECT, e.g. an expiring token. What it leaves
   * out stays as configured (`username`, `password`). Failing is as for `transformWsUrl`; never
   * stored.
   */
  credentials?: (attempt: { url: string }) => AttemptCredentials | Promise<AttemptCredentials>;
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

/** What the `credentials` option returns for one attempt. */
export interface AttemptCredentials {
  username?: string;
  password?: string | Uint8Array;
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
  /**
   * MQTT 5: add the wall-clock time (ms since the epoch) as the user property 'wasmqtt-ts', so
   * that wasmqtt receivers measure the delivery lag. Default false.
   */
  stamp?: boolean;
}

export interface PublishResult {
  /** The broker's reason code (MQTT 5; 0 otherwise). */
  reasonCode: number;
}

/** See `ClientOptions.ack`. */
export type AckMode = 'on-receipt' | 'after-handler';

export interface SubscribeOptions {
  /** Default 0; applies to filters given as strings. */
  qos?: QoS;
  properties?: Properties;
  /** This subscription's own acknowledgement mode; default: the client's `ack`. */
  ack?: AckMode;
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
  /** QoS 1/2 messages allowed in flight now: the cap, or what the adaptive window allows under it. */
  window: number;
  /** Smoothed PINGREQ -> PINGRESP round trip, ms, once measured. */
  rttMs?: number;
  /** The time between PINGREQs now, ms (0 while disconnected or with keepalive 0). */
  keepaliveIntervalMs: number;
  /** Messages received per second over the last few seconds. */
  messagesPerSecond: number;
  /** Where the session is kept now (see the 'storage' event). */
  persistence: 'indexeddb' | 'memory';
  /** Age of the oldest outgoing message queued or in flight, ms (0: none). */
  oldestQueuedAgeMs: number;
  /**
   * Publish-to-handler lag of stamped messages received in the last minute, ms (absent with
   * none). Across machines it includes their clock skew.
   */
  deliveryLagP50Ms?: number;
  deliveryLagP99Ms?: number;
  /** Bytes (topic and payload) of messages held: outgoing queued or in flight, incoming awaiting their durable receipt. */
  bytesHeld: number;
  /** Bytes held above the least held in the last minute (checked once a second). */
  bytesHeldGrowth: number;
  /** ack: 'after-handler': messages whose handlers run or wait to retry. */
  handlersRunning: number;
  /** ack: 'after-handler': messages waiting for a handler slot (handlerConcurrency). */
  handlersWaiting: number;
  /** ack: 'after-handler': median and 99th percentile of the latest 512 handler durations, ms (null until one finished). */
  handlerLatencyP50Ms: number | null;
  handlerLatencyP99Ms: number | null;
  /** ack: 'after-handler': QoS 0 messages dropped from the handlers' queue (handlerQueueMaxBytes). */
  handlerQos0Dropped: number;
  /** Bytes of QoS 1/2 records in the publish journal (localStorage), not yet committed to IndexedDB. */
  journalBytes: number;
}

/** Alert thresholds, each in its metric's unit; false drops a default. */
export interface AlertThresholds {
  queued?: number | false;
  oldestQueuedAgeMs?: number | false;
  deliveryLagP99Ms?: number | false;
  bytesHeld?: number | false;
  bytesHeldGrowth?: number | false;
  /** With ack: 'after-handler': handler duration p99, ms. */
  handlerLatencyP99Ms?: number | false;
}

/**
 * Every `code` an MqttError can carry (README, Errors). tests/page/error-codes.test.mjs checks
 * this list against the Rust and JavaScript source, both ways.
 */
export type ErrorCode =
  // The client's own.
  | 'INVALID_ARGUMENT' | 'NOT_LOADED' | 'WASM_LOAD_FAILED' | 'CLIENT_ENDED' | 'NOT_CONNECTED'
  | 'CONNECTION_FAILED' | 'WRONG_SUBPROTOCOL' | 'CONNECT_TIMEOUT' | 'CONNECTION_LOST' | 'RECONNECT_GAVE_UP'
  | 'ATTEMPT_SETUP_FAILED'
  | 'REDIRECT_NOT_FOLLOWED' | 'JOURNAL_FULL' | 'JOURNAL_FAILED'
  | 'PROTOCOL_ERROR' | 'QUEUE_FULL' | 'QUEUE_OVERFLOW' | 'MESSAGE_EXPIRED' | 'PACKET_TOO_LARGE'
  | 'QOS_NOT_SUPPORTED' | 'RETAIN_NOT_SUPPORTED' | 'WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED'
  | 'SHARED_SUBSCRIPTIONS_NOT_SUPPORTED' | 'SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED' | 'NOT_SUPPORTED_BEFORE_MQTT5'
  | 'REQUEST_TIMEOUT' | 'PUBLISH_FAILED' | 'SUBSCRIBE_FAILED'
  | 'AUTHENTICATION_FAILED' | 'AUTHENTICATION_PROTOCOL_ERROR' | 'AUTHENTICATION_IN_PROGRESS'
  | 'NO_AUTHENTICATION_CHALLENGE' | 'NO_AUTHENTICATION_METHOD'
  | 'STORE_UNAVAILABLE' | 'STORE_BLOCKED' | 'STORE_QUOTA_EXCEEDED' | 'STORE_FAILED' | 'STORE_CORRUPT_RECORD'
  | 'TABS_UNSUPPORTED' | 'LEADER_CHANGED' | 'NOT_LEADER_TAB'
  // The codec's (wasmqtt/codec).
  | 'INVALID_STATE'
  // MQTT 5 reason codes 0x80 and above, by name (3.1.1's CONNACK codes map to these).
  | 'UNSPECIFIED_ERROR' | 'MALFORMED_PACKET' | 'IMPLEMENTATION_SPECIFIC_ERROR' | 'UNSUPPORTED_PROTOCOL_VERSION'
  | 'CLIENT_IDENTIFIER_NOT_VALID' | 'BAD_USER_NAME_OR_PASSWORD' | 'NOT_AUTHORIZED' | 'SERVER_UNAVAILABLE'
  | 'SERVER_BUSY' | 'BANNED' | 'SERVER_SHUTTING_DOWN' | 'BAD_AUTHENTICATION_METHOD' | 'KEEP_ALIVE_TIMEOUT'
  | 'SESSION_TAKEN_OVER' | 'TOPIC_FILTER_INVALID' | 'TOPIC_NAME_INVALID' | 'PACKET_IDENTIFIER_IN_USE'
  | 'PACKET_IDENTIFIER_NOT_FOUND' | 'RECEIVE_MAXIMUM_EXCEEDED' | 'TOPIC_ALIAS_INVALID' | 'MESSAGE_RATE_TOO_HIGH'
  | 'QUOTA_EXCEEDED' | 'ADMINISTRATIVE_ACTION' | 'PAYLOAD_FORMAT_INVALID' | 'USE_ANOTHER_SERVER' | 'SERVER_MOVED'
  | 'CONNECTION_RATE_EXCEEDED' | 'MAXIMUM_CONNECT_TIME';

/** Every error wasmqtt raises, thrown or rejected or emitted: `error instanceof MqttError` holds. */
export class MqttError extends Error {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown });
  name: 'MqttError';
  /** Stable code (README, Errors): one of `ErrorCode`, so a typo in a comparison fails to compile. */
  code: ErrorCode;
  /** The MQTT 5 reason code, where one applies. */
  reasonCode?: number;
  /** True when the client stopped for good (a permanent refusal or ended). */
  fatal?: boolean;
  /** With 'STORE_CORRUPT_RECORD': the key of the stored record that was skipped. */
  record?: string;
}

export interface ConnectEvent { sessionPresent: boolean; reasonCode: number; properties: Properties }
export interface ReconnectEvent { attempt: number; delayMs: number; url: string }
/** A server redirect being followed; `permanent` (0x9D): `to` replaces the configured URL for this client's life. */
export interface RedirectEvent { from: string; to: string; reasonCode: number; permanent: boolean }
/** A metric crossed its threshold ('raised') or came back to 80 % of it or less ('cleared'). */
export interface AlertEvent { metric: keyof AlertThresholds; value: number; threshold: number; state: 'raised' | 'cleared' }
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
/** ack: 'after-handler': a message whose handlers failed `attempts` times; it is acknowledged and marked now. */
export interface DeadLetterEvent { message: Message; error: unknown; attempts: number }

export interface ClientEvents {
  connect: (event: ConnectEvent) => void;
  reconnect: (event: ReconnectEvent) => void;
  redirect: (event: RedirectEvent) => void;
  alert: (event: AlertEvent) => void;
  /** end() is done: the connection closed and everything released (as MQTT.js's 'end'). */
  end: () => void;
  offline: () => void;
  close: (event: CloseEvent) => void;
  error: (error: MqttError) => void;
  /** With ack: 'after-handler', a Promise returned here is awaited before the acknowledgement. */
  message: (topic: string, payload: Uint8Array, message: Message) => void | Promise<unknown>;
  'dead-letter': (event: DeadLetterEvent) => void;
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
    options?: SubscribeOptions | ((message: Message) => void | Promise<unknown>),
    handler?: (message: Message) => void | Promise<unknown>,
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
  /** The metrics in the OpenMetrics text format (ends with '# EOF'), for a Prometheus-style collector. */
  metricsText(): string;
  /**
   * As MQTT.js's: drops the current connection, if any (with DISCONNECT: the will is not
   * published), and starts an attempt now, skipping the backoff wait, also after the client
   * stopped trying; the session, queue and subscriptions stay. Throws CLIENT_ENDED after end():
   * call connect() for a new client.
   */
  reconnect(): this;
  end(options?: EndOptions): Promise<void>;
  /** MQTT.js's forms: end(force), end(force, cb), end(force, options, cb), end(cb). */
  end(force: boolean, callback?: (error?: MqttError) => void): Promise<void>;
  end(force: boolean, options: Omit<EndOptions, 'force'>, callback?: (error?: MqttError) => void): Promise<void>;
  end(callback: (error?: MqttError) => void): Promise<void>;
}

export function load(wasmUrl?: string | URL): Promise<unknown>;
export function connect(url: string | string[], options?: ClientOptions): Promise<MqttClient>;
