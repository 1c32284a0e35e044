// The fault proxy against a real mosquitto over plain MQTT/TCP, with hand-built packets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startBroker } from '../../scripts/lib/broker.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';

// CONNECT, MQTT 3.1.1, clean session, keepalive 60 s, client id "fp"
const CONNECT = Buffer.from([0x10, 14, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 2, 0x66, 0x70]);

let broker, proxy;
before(async () => {
  broker = await startBroker();
  proxy = await startFaultProxy({ targetPort: broker.tcpPort });
});
after(async () => {
  await proxy?.close();
  await broker?.dispose();
});

function client() {
  const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
  const received = [];
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.on('data', (d) => received.push(...d));
  socket.on('error', () => {});
  return { socket, received, closed };
}

const until = async (predicate, ms = 3000) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('forwards both ways: CONNECT through the proxy gets a CONNACK', async () => {
  const c = client();
  c.socket.write(CONNECT);
  await until(() => c.received.length >= 4);
  assert.deepEqual(c.received.slice(0, 4), [0x20, 2, 0, 0]);
  c.socket.destroy();
});

test('cutAfter resets the link mid-packet, after exactly that many bytes', async () => {
  const c = client();
  await until(() => proxy.openLinks === 1);
  const before = broker.log();
  proxy.cutAfter(5);
  c.socket.write(CONNECT);
  await c.closed;
  assert.equal(c.received.length, 0, 'no CONNACK: the broker saw a truncated CONNECT');
  assert.equal(broker.log().slice(before.length).includes('as fp'), false);
});

test('a stall swallows bytes without closing (half-open), and forwarding resumes after', async () => {
  const c = client();
  await until(() => proxy.openLinks === 1);
  proxy.stall(true);
  c.socket.write(CONNECT);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(c.received.length, 0);
  assert.equal(c.socket.destroyed, false);
  assert.ok(proxy.stats.bytesSwallowed >= CONNECT.length);
  proxy.stall(false);
  c.socket.write(CONNECT);
  await until(() => c.received.length >= 4);
  c.socket.destroy();
});

test('refuseFor resets new connections for a while, then accepts again', async () => {
  proxy.refuseFor(300);
  const refused = client();
  await refused.closed;
  assert.equal(proxy.stats.refused, 1);
  await new Promise((r) => setTimeout(r, 350));
  const c = client();
  c.socket.write(CONNECT);
  await until(() => c.received.length >= 4);
  c.socket.destroy();
});

test('heal lifts every fault at once: stall, delay, refusal and a pending cut', async () => {
  proxy.stall(true);
  proxy.delay(5_000);
  proxy.refuseFor(60_000);
  proxy.cutAfter(3);
  proxy.heal();
  const c = client();
  c.socket.write(CONNECT);
  // A 5 s delay, a refusal or a cut after 3 bytes would each keep the CONNACK from arriving.
  await until(() => c.received.length >= 4, 2_000);
  assert.deepEqual(c.received.slice(0, 4), [0x20, 2, 0, 0]);
  c.socket.destroy();
});

test('jitter keeps each direction in order, and delays every chunk by at least the base delay', async () => {
  // A TCP echo server behind its own proxy: each byte comes back through both directions.
  const echo = net.createServer((socket) => { socket.on('error', () => {}); socket.pipe(socket); });
  await new Promise((r) => echo.listen(0, '127.0.0.1', r));
  const jittery = await startFaultProxy({ targetPort: echo.address().port });
  jittery.delay(40, { jitter: 200, seed: 7 });
  try {
    const socket = net.connect({ host: '127.0.0.1', port: jittery.port });
    socket.setNoDelay(true);
    socket.on('error', () => {});
    const received = [];
    const arrivals = [];
    socket.on('data', (d) => { received.push(...d); arrivals.push(Date.now()); });
    await new Promise((r) => socket.on('connect', r));
    const start = Date.now();
    for (let i = 0; i < 60; i++) {
      socket.write(Buffer.from([i]));
      await new Promise((r) => setTimeout(r, 3));
    }
    await until(() => received.length === 60, 10_000);
    assert.deepEqual(received, [...Array(60).keys()], 'in order, nothing lost');
    assert.ok(arrivals[0] - start >= 80, `the first byte came back after ${arrivals[0] - start} ms: twice the base delay at least`);
    socket.destroy();
  } finally {
    await jittery.close();
    await new Promise((r) => echo.close(r));
  }
});

test('a rate limit spaces the bytes: 20 KB through 100 KB/s each way take at least 0.2 s', async () => {
  const echo = net.createServer((socket) => { socket.on('error', () => {}); socket.pipe(socket); });
  await new Promise((r) => echo.listen(0, '127.0.0.1', r));
  const slow = await startFaultProxy({ targetPort: echo.address().port });
  slow.rate(100_000);
  try {
    const socket = net.connect({ host: '127.0.0.1', port: slow.port });
    socket.on('error', () => {});
    let received = 0;
    socket.on('data', (d) => { received += d.length; });
    await new Promise((r) => socket.on('connect', r));
    const start = Date.now();
    socket.write(Buffer.alloc(20_000, 1));
    await until(() => received === 20_000, 10_000);
    const took = Date.now() - start;
    assert.ok(took >= 190, `took ${took} ms`);
    socket.destroy();
  } finally {
    await slow.close();
    await new Promise((r) => echo.close(r));
  }
});
