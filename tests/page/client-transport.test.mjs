// Transport failures a dashboard must see clearly: a WebSocket server that is not an MQTT
// endpoint (no `mqtt` subprotocol), and a server that accepts TCP but never answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { startHarness } from './lib/harness.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** Completes the WebSocket handshake but agrees to no subprotocol. */
async function plainWebSocketServer() {
  const server = http.createServer();
  const sockets = new Set();
  server.on('upgrade', (req, socket) => {
    sockets.add(socket);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC11B85`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  });
  const port = await listen(server);
  return { url: `ws://127.0.0.1:${port}`, close: () => { for (const s of sockets) s.destroy(); server.close(); } };
}

const failure = (page, url, options) => page.evaluate(async ([url, options]) => {
  const started = performance.now();
  try {
    await window.wasmqtt.connect(url, options);
    return null;
  } catch (e) {
    return { code: e.code, fatal: e.fatal, message: e.message, ms: performance.now() - started };
  }
}, [url, options]);

// Chromium fails a handshake whose answer lacks the requested subprotocol and reports only close
// code 1006, as for a closed port; the error says what it may be.
test('a WebSocket server without the mqtt subprotocol gives an error that names the cause', async () => {
  const server = await plainWebSocketServer();
  try {
    const page = await h.page();
    const errors = await page.evaluate(async (url) => {
      const seen = [];
      const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', reconnect: false });
      client.on('error', (e) => seen.push([e.code, e.message]));
      await client.ready.catch(() => {});
      await client.end({ force: true });
      return seen;
    }, server.url);
    const failed = errors.find(([code]) => code === 'CONNECTION_FAILED');
    assert.ok(failed, JSON.stringify(errors));
    assert.match(failed[1], /mqtt subprotocol/);
  } finally {
    server.close();
  }
});

test('connectTimeout gives up on a server that accepts but never answers', async () => {
  const sockets = new Set();
  const silent = net.createServer((socket) => sockets.add(socket)); // never writes a byte
  const port = await listen(silent);
  try {
    const page = await h.page();
    const outcome = await failure(page, `ws://127.0.0.1:${port}`, { persistence: 'memory', connectTimeout: 400, reconnect: false });
    assert.equal(outcome?.code, 'CONNECTION_LOST');
    assert.equal(outcome.fatal, true);
    assert.ok(outcome.ms >= 350 && outcome.ms < 5_000, `gave up after ${outcome.ms} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});
