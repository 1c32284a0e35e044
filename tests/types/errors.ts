// Misuse the typings must reject: each line below carries @ts-expect-error, so tsc fails if a
// typo or a wrong type would be accepted.
import { connect, MqttError } from 'wasmqtt';
import type { ErrorCode } from 'wasmqtt';

async function misuse(): Promise<void> {
  // @ts-expect-error: QoS 3 does not exist
  await connect('ws://h', { will: { topic: 'a', payload: 'x', qos: 3 } });
  // @ts-expect-error: unknown option name
  await connect('ws://h', { keepAlive: 5 });
  const client = await connect('ws://h');
  // @ts-expect-error: payload must be a string or Uint8Array
  await client.publish('a', 42);
  // @ts-expect-error: no such event
  client.on('disconnected', () => {});
  // @ts-expect-error: not a copy policy
  await connect('ws://h', { overlapCopies: 'twice' });
  // @ts-expect-error: authenticate answers with bytes, not a number
  await connect('ws://h', { authenticate: () => 42 });
  // @ts-expect-error: a request's timeout is a number of ms
  await client.request('a', 'x', { timeout: '5s' });
  // @ts-expect-error: respond needs the request message
  await client.respond('a/topic', 'x');
  // @ts-expect-error: a fixed reconnect period is given alone
  await connect('ws://h', { reconnect: { period: 1000, minDelay: 5 } });
  // @ts-expect-error: end's options are checked too
  await client.end({ forse: true });
  client.on('error', (error) => {
    // @ts-expect-error: a typo'd error code (CONECTION_FAILED) is no ErrorCode
    if (error.code === 'CONECTION_FAILED') return;
    // A real one compiles.
    if (error.code === 'CONNECTION_FAILED') return;
  });
  try {
    await client.publish('a', 'x');
  } catch (error) {
    // @ts-expect-error: not a code the client produces
    if (error instanceof MqttError && error.code === 'QUEUE_FULLL') return;
  }
  // @ts-expect-error: transformWsUrl returns the URL, not an object
  await connect('ws://h', { transformWsUrl: () => ({ url: 'ws://h' }) });
  // @ts-expect-error: credentials' password is a string or bytes
  await connect('ws://h', { credentials: () => ({ password: 42 }) });
  // @ts-expect-error: ErrorCode is the union, not any string
  const code: ErrorCode = 'NOT_A_CODE';
  void code;
}
void misuse;
