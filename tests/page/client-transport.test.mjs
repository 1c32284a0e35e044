// Transport failures a dashboard must see clearly: a WebSocket server that is not an MQTT
// endpoint (no `mqtt` subprotocol), a server that accepts TCP but never answers, and a broker
// out of reach. And how packets are framed: a burst leaves in few WebSocket messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { startHarness } from './lib/harness.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { recordMessages } from './lib/frames.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/**
 * A WebSocket server that is not an MQTT endpoint: it completes every handshake, answering with
 * `subprotocol` whatever the client offered (none when undefined), or, `onlyWhenOffered`, only
 * when the client offered it (as mosquitto does with "mqtt"). `cutFirst` drops the first
 * handshake's connection before answering. Records what was offered.
 */
async function otherWebSocketServer(subprotocol, { onlyWhenOffered = false, cutFirst = false } = {}) {
  const server = http.createServer();
  const sockets = new Set();
  const offered = [];
  server.on('upgrade', (req, socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const asked = req.headers['sec-websocket-protocol'] ?? null;
    offered.push(asked);
    if (cutFirst && offered.length === 1) {
      socket.destroy();
      return;
    }
    const answered = onlyWhenOffered && asked !== subprotocol ? undefined : subprotocol;
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const chosen = answered ? `Sec-WebSocket-Protocol: ${answered}\r\n` : '';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${chosen}\r\n`);
  });
  const port = await listen(server);
  return { url: `ws://127.0.0.1:${port}`, offered, close: () => { for (const s of sockets) s.destroy(); server.close(); } };
}

/** The errors a client with reconnect off reports for `url`, and how long it took to give up. */
const errorsFor = (page, url) => page.evaluate(async (url) => {
  const seen = [];
  const started = performance.now();
  const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', reconnect: false, connectTimeout: 10_000 });
  client.on('error', (e) => seen.push({ code: e.code, message: e.message, fatal: e.fatal ?? false }));
  await client.ready.catch(() => {});
  // A verdict may still be on its way from the probe.
  while (!seen.some((e) => e.code !== 'CONNECTION_LOST') && performance.now() - started < 5_000) await new Promise((r) => setTimeout(r, 20));
  const ms = performance.now() - started;
  await client.end({ force: true });
  return { errors: seen, ms };
}, url);

const failure = (page, url, options) => page.evaluate(async ([url, options]) => {
  const started = performance.now();
  try {
    await window.wasmqtt.connect(url, options);
    return null;
  } catch (e) {
    return { code: e.code, fatal: e.fatal, message: e.message, ms: performance.now() - started };
  }
}, [url, options]);

// Chromium fails a handshake whose answer lacks the offered subprotocol (MQTT-6.0.0-4: the
// server must select "mqtt") and reports only close code 1006, as for a closed port or a TLS
// failure. The client then asks the server again, with "mqtt" and then without a subprotocol:
// when only the second opens, it can say what is wrong.
test('a WebSocket server that does not select the mqtt subprotocol is reported as not an MQTT endpoint', async () => {
  const server = await otherWebSocketServer();
  try {
    const page = await h.page();
    const { errors, ms } = await errorsFor(page, server.url);
    assert.equal(server.offered[0], 'mqtt', 'the client offers mqtt (MQTT-6.0.0-3)');
    assert.deepEqual(server.offered, ['mqtt', 'mqtt', null], 'a probe with mqtt, then one without a subprotocol');
    // The cause first, then the client giving up (reconnect is off) with the cause's code and
    // message: the first connection failed, so nothing was lost.
    assert.deepEqual(errors.map((e) => [e.code, e.fatal]), [['WRONG_SUBPROTOCOL', false], ['WRONG_SUBPROTOCOL', true]], JSON.stringify(errors));
    const [wrong, lost] = errors;
    assert.match(wrong.message, /accepts WebSocket connections but refused the mqtt subprotocol: it is not an MQTT over WebSocket endpoint/);
    assert.ok(wrong.message.includes(server.url));
    assert.equal(lost.message, `could not connect, and reconnect is off: ${wrong.message}`);
    assert.ok(ms < 3_000, `gave up after ${ms} ms, not at connectTimeout`);
  } finally {
    server.close();
  }
});

test('a server that answers with another subprotocol fails the handshake; the error names the possible causes', async () => {
  // It answers mqttv3.1 even to the probe, which then fails too: the browser cannot say more.
  const server = await otherWebSocketServer('mqttv3.1');
  try {
    const page = await h.page();
    const { errors } = await errorsFor(page, server.url);
    assert.deepEqual(server.offered, ['mqtt', 'mqtt', null]);
    const failed = errors.find((e) => e.code === 'CONNECTION_FAILED');
    assert.ok(failed, JSON.stringify(errors));
    assert.match(failed.message, /nothing listens there, or the server refused the upgrade or the mqtt subprotocol .*, or TLS failed/);
    assert.ok(!errors.some((e) => e.code === 'WRONG_SUBPROTOCOL'));
  } finally {
    server.close();
  }
});

test('a handshake cut at an MQTT endpoint is not reported as a wrong endpoint', async () => {
  // Like mosquitto, this server takes "mqtt" and also a WebSocket without a subprotocol. Its
  // first handshake is cut (a dropped link, a broker restarting); the probe with "mqtt" opens,
  // so that failure was a passing one.
  const server = await otherWebSocketServer('mqtt', { onlyWhenOffered: true, cutFirst: true });
  try {
    const page = await h.page();
    const { errors } = await errorsFor(page, server.url);
    assert.deepEqual(server.offered.slice(0, 2), ['mqtt', 'mqtt'], 'the cut handshake, then the probe with mqtt');
    assert.ok(!errors.some((e) => e.code === 'WRONG_SUBPROTOCOL'), JSON.stringify(errors));
    assert.ok(errors.some((e) => e.code === 'CONNECTION_FAILED'), JSON.stringify(errors));
  } finally {
    server.close();
  }
});

test('while the broker is unreachable, attempts follow the reconnect backoff rather than connectTimeout', async () => {
  const proxy = await startFaultProxy({ targetPort: h.broker.wsPort });
  proxy.refuseFor(60_000);
  try {
    const page = await h.page();
    const attempts = await page.evaluate(async (url) => {
      const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', connectTimeout: 30_000, reconnect: { minDelay: 100, maxDelay: 200 } });
      let reconnects = 0;
      client.on('reconnect', () => { reconnects += 1; });
      client.on('error', () => {});
      await new Promise((r) => setTimeout(r, 2_000));
      await client.end({ force: true });
      return reconnects;
    }, proxy.wsUrl);
    assert.ok(attempts >= 5, `${attempts} retries in 2 s`);
    assert.ok(proxy.stats.refused >= attempts, `the proxy saw ${proxy.stats.refused} connections`);
  } finally {
    await proxy.close();
  }
});

test('connectTimeout gives up on a server that accepts but never answers', async () => {
  const sockets = new Set();
  const silent = net.createServer((socket) => sockets.add(socket)); // never writes a byte
  const port = await listen(silent);
  try {
    const page = await h.page();
    const outcome = await failure(page, `ws://127.0.0.1:${port}`, { persistence: 'memory', connectTimeout: 400, reconnect: false });
    assert.equal(outcome?.code, 'CONNECT_TIMEOUT');
    assert.equal(outcome.fatal, true);
    assert.ok(outcome.ms >= 350 && outcome.ms < 5_000, `gave up after ${outcome.ms} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

// MQTT-6.0.0-2 lets one WebSocket message carry several packets; a loop of publish() calls is
// sent as one batch at the end of the task instead of one message per packet.
test('a burst of QoS 0 publishes in one task leaves in fewer WebSocket messages, every packet in order', async () => {
  const page = await h.page();
  const sent = recordMessages(page, 'framesent');
  const count = 300;
  const received = await page.evaluate(async (count) => {
    const client = await window.wasmqtt.connect(window.config.brokerUrl, { persistence: 'memory' });
    const got = [];
    await client.subscribe('burst/#', { qos: 0 }, (m) => got.push(m.text));
    const written = [];
    for (let i = 0; i < count; i++) written.push(client.publish('burst/n', `m${i}`));
    await Promise.all(written);
    const deadline = Date.now() + 10_000;
    while (got.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await client.end();
    return got;
  }, count);
  const expected = Array.from({ length: count }, (_, i) => `m${i}`);
  const unreadable = sent.flatMap((m) => m.packets).filter((p) => p.cmd === 'unreadable');
  assert.deepEqual(unreadable, [], 'every message holds MQTT packets');
  assert.deepEqual(sent.filter((m) => m.pending), [], 'every message holds whole packets');
  const withPublishes = sent.map((m) => m.packets).filter((packets) => packets.some((p) => p.cmd === 'publish'));
  const published = withPublishes.flat().filter((p) => p.cmd === 'publish').map((p) => p.payload.toString());
  assert.deepEqual(published, expected, 'the page sent every publish once, in call order');
  assert.ok(withPublishes.length < count / 10, `${count} publishes left in ${withPublishes.length} WebSocket messages`);
  assert.deepEqual(received, expected, 'mosquitto delivered them all, in order');
});
