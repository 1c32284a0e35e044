// A typed dashboard snippet: compiled with `tsc --noEmit` by npm test against pkg/index.d.ts.
import { connect, MqttClient, type Message, type SubscriptionResult, type Metrics, type MqttError } from 'wasmqtt';

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
  console.log(firstQos, reasonCode, metrics.inflight, codes);
  await client.end({ force: false, timeout: 1000 });
}
void main;
