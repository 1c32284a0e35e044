// A typed dashboard snippet: compiled with `tsc --noEmit` by npm test against pkg/index.d.ts.
import { connect, MqttClient, MqttError, type Message, type SubscriptionResult, type Metrics, type AuthChallenge, type Properties } from 'wasmqtt';

async function main(): Promise<void> {
  const client: MqttClient = await connect(['ws://127.0.0.1:9001', 'wss://broker.example/mqtt'], {
    protocolVersion: 5,
    clientId: 'dash',
    clean: false,
    keepalive: 30,
    will: { topic: 'dash/status', payload: 'offline', qos: 1, retain: true, properties: { willDelayInterval: 5 } },
    properties: { sessionExpiryInterval: 3600, userProperties: [['app', 'dash']] },
    reconnect: { minDelay: 250, maxDelay: 10_000, factor: 2, jitter: 0.5 },
    queue: { maxMessages: 1000, overflow: 'drop-oldest-qos0' },
    dedup: { key: 'msg-id', windowSize: 5000 },
    persistence: 'indexeddb',
    topicAliases: 8,
    subscriptionIdentifiers: true,
    overlapCopies: 'collapse',
  });
  const secure = await connect('wss://broker.example/mqtt', {
    properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: new Uint8Array([1]) },
    authenticate: async ({ method, data, reasonCode }: AuthChallenge) => new Uint8Array([method.length, data?.[0] ?? 0, reasonCode]),
  });
  // A URL signed afresh and a token for each attempt (sync, as MQTT.js's, or async).
  const signed = await connect('wss://iot.example/mqtt', {
    transformWsUrl: (url, options, c) => `${url}?X-Amz-Signature=${options.clientId ?? ''}${c.connected}`,
    credentials: async ({ url }) => ({ username: 'device', password: url.length > 0 ? 'token' : new Uint8Array(1) }),
  });
  signed.reconnect().on('connect', () => {});
  const renewed: Properties = await secure.reauthenticate('token-2');
  secure.on('reauthenticated', ({ properties }) => void properties.authenticationData);
  const reply: Message = await client.request('svc/time', 'now?', { qos: 1, timeout: 5_000, properties: { contentType: 'text/plain' } });
  client.subscribe('svc/time', { qos: 1 }, (request: Message) => {
    void client.respond(request, new Date().toISOString(), { qos: 1 }).then(({ reasonCode }) => reasonCode);
  });
  const granted: SubscriptionResult[] = await client.subscribe(
    [{ topic: 'a/#', qos: 2, noLocal: true }, 'b/+'],
    { qos: 1 },
    (message: Message) => console.log(message.topic, message.text, message.payload.byteLength, message.properties.contentType),
  );
  const firstQos: 0 | 1 | 2 | undefined = granted[0].qos;
  const { reasonCode } = await client.publish('a/b', new Uint8Array([1, 2]), { qos: 2, retain: false, properties: { messageExpiryInterval: 60 } });
  client.on('message', (topic: string, payload: Uint8Array, message: Message) => void [topic, payload, message.qos]);
  client.on('backpressure', ({ high, queued }) => void [high, queued]);
  client.on('error', (error: MqttError) => console.error(error.code, error.reasonCode, error.fatal));
  client.on('connect', ({ sessionPresent }) => void sessionPresent);
  for await (const message of client.messages('a/#')) {
    console.log(message.text);
    break;
  }
  const metrics: Metrics = client.metrics();
  const codes: number[] = await client.unsubscribe(['a/#']);
  console.log(firstQos, reasonCode, metrics.inflight, metrics.topicAliasHits, metrics.copiesDropped, codes, reply.text, renewed);
  const fixed = await connect('ws://127.0.0.1:9001', { reconnect: { period: 1000 } }).catch((e: unknown) => {
    if (e instanceof MqttError) console.log(e.code, e.fatal);
    return null;
  });
  await fixed?.end({ will: true });
  const watched = await connect('ws://127.0.0.1:9001', { followRedirects: true, maxRedirects: 2, alerts: { queued: 500, deliveryLagP99Ms: false } });
  watched.on('redirect', (r) => console.log(r.from, r.to, r.reasonCode, r.permanent));
  watched.on('alert', (a) => console.log(a.metric, a.value, a.threshold, a.state === 'raised'));
  await watched.publish('a/b', 'x', { qos: 1, stamp: true });
  const lag: number | undefined = watched.metrics().deliveryLagP99Ms;
  const text: string = watched.metricsText();
  console.log(lag, text, watched.metrics().oldestQueuedAgeMs, watched.metrics().bytesHeld, watched.metrics().bytesHeldGrowth);
  const orders = new MqttClient('ws://127.0.0.1:9001', { clientId: 'orders', clean: false, ack: 'after-handler', handlerConcurrency: 4, handlerRetries: 2, handlerRetryDelay: 500, handlerQueueMaxBytes: 65_536 });
  orders.on('dead-letter', ({ message, error, attempts }) => console.log(message.topic, error, attempts));
  orders.on('message', async (topic: string) => { await Promise.resolve(topic); });
  await orders.subscribe('orders/#', { qos: 2, ack: 'after-handler' }, async (message: Message) => { await Promise.resolve(message.text); });
  const load: Metrics = orders.metrics();
  console.log(load.handlersRunning, load.handlersWaiting, load.handlerLatencyP50Ms, load.handlerLatencyP99Ms, load.handlerQos0Dropped);
  await client.end({ force: false, timeout: 1000 });
}
void main;
