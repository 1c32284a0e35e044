// What MQTT.js users expect around each connection attempt: a URL and credentials computed
// afresh for every attempt (`transformWsUrl`, `credentials`: signed URLs, expiring tokens), and
// `client.reconnect()`. The core's decisions are proven on the host (tests/client_link.rs); here
// a real page against a scripted broker (which records the path and query each attempt asked
// for) and against mosquitto.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startHarness } from './lib/harness.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';
import { until } from './lib/wait.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

test('transformWsUrl and credentials are asked before every attempt: each signed URL and token reaches the broker once, and none is stored', async () => {
  // The broker plays a token that expires: it accepts each connection, then drops it.
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
    if (packet.cmd === 'pingreq') c.send({ cmd: 'pingresp' });
  });
  try {
    const page = await h.page();
    const seen = await page.evaluate(async (url) => {
      const calls = [];
      let n = 0;
      const options = {
        clientId: 'attempts-signed',
        clean: false,
        shareAcrossTabs: false,
        reconnect: { period: 100 },
        // As MQTT.js users write it: synchronous, with (url, options, client).
        transformWsUrl: (wsUrl, opts, client) => {
          n += 1;
          calls.push({ wsUrl, clientId: opts.clientId, isClient: client instanceof window.wasmqtt.MqttClient });
          return `${wsUrl}/mqtt?X-Amz-Date=2026&X-Amz-Signature=sig-${n}`;
        },
        credentials: async ({ url: signed }) => ({ username: 'device', password: `token-${signed.slice(-1)}` }),
      };
      const client = await window.wasmqtt.connect(url, options);
      window.client = client;
      // Never acknowledged by this broker: it stays in the stored session.
      client.publish('attempts/kept', 'queued', { qos: 1 }).catch(() => {});
      return calls;
    }, broker.wsUrl);
    assert.deepEqual(seen[0], { wsUrl: broker.wsUrl, clientId: 'attempts-signed', isClient: true });
    broker.connections[0].close();
    await until(() => broker.connections.filter((c) => c.packets.some((p) => p.cmd === 'connect')).length >= 2, 10_000, 'a second attempt');
    const attempts = broker.connections.slice(0, 2).map((c) => ({
      url: c.url,
      username: c.packets[0].username,
      password: c.packets[0].password?.toString(),
    }));
    assert.deepEqual(attempts, [
      { url: '/mqtt?X-Amz-Date=2026&X-Amz-Signature=sig-1', username: 'device', password: 'token-1' },
      { url: '/mqtt?X-Amz-Date=2026&X-Amz-Signature=sig-2', username: 'device', password: 'token-2' },
    ]);
    // Nothing of the signed URLs or tokens in any storage area; the store is there, under the
    // configured URL's name.
    const stored = await page.evaluate(async () => {
      const names = (await indexedDB.databases()).map((d) => d.name);
      const contents = [];
      for (const name of names) {
        const db = await new Promise((resolve, reject) => {
          const request = indexedDB.open(name);
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        for (const store of db.objectStoreNames) {
          const all = await new Promise((resolve) => {
            const request = db.transaction(store).objectStore(store).getAll();
            request.onsuccess = () => resolve(request.result);
          });
          contents.push(JSON.stringify(all, (k, v) => (v instanceof Uint8Array || v instanceof ArrayBuffer ? new TextDecoder().decode(v) : v)));
        }
        db.close();
      }
      await window.client.end({ force: true });
      return { names, contents: contents.join(' '), local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) };
    });
    assert.ok(stored.names.some((name) => name.includes('attempts-signed')), `the session is stored: ${stored.names}`);
    for (const secret of ['X-Amz', 'sig-', 'token-']) {
      for (const [area, text] of Object.entries({ names: stored.names.join(' '), contents: stored.contents, local: stored.local, session: stored.session })) {
        assert.ok(!text.includes(secret), `${secret} in ${area}: ${text.slice(0, 200)}`);
      }
    }
  } finally {
    await broker.close();
  }
});

test('a transformWsUrl that throws and a credentials that rejects each fail their attempt with ATTEMPT_SETUP_FAILED; the client goes on and connects', async () => {
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
  });
  try {
    const page = await h.page();
    const result = await page.evaluate(async (url) => {
      await window.wasmqtt.load();
      let n = 0;
      const errors = [];
      const client = new window.wasmqtt.MqttClient(url, {
        persistence: 'memory',
        reconnect: { period: 50 },
        transformWsUrl: (wsUrl) => {
          n += 1;
          if (n === 1) throw new Error('no signer yet');
          return `${wsUrl}/?attempt=${n}`;
        },
        credentials: () => (n === 2 ? Promise.reject(new Error('token service down')) : { password: 'ok', username: 'u' }),
      });
      client.on('error', (e) => errors.push({ code: e.code, fatal: e.fatal ?? false, message: e.message, isMqttError: e instanceof window.wasmqtt.MqttError }));
      await new Promise((resolve) => client.once('connect', resolve));
      await client.end({ force: true });
      return { errors, n };
    }, broker.wsUrl);
    assert.deepEqual(result.errors.map((e) => [e.code, e.fatal, e.isMqttError]), [
      ['ATTEMPT_SETUP_FAILED', false, true],
      ['ATTEMPT_SETUP_FAILED', false, true],
    ]);
    assert.match(result.errors[0].message, /transformWsUrl failed: no signer yet/);
    assert.match(result.errors[1].message, /credentials failed: token service down/);
    assert.equal(result.n, 3);
    assert.equal(broker.connections.length, 1, 'no socket for a failed setup');
    assert.equal(broker.connections[0].url, '/?attempt=3');
  } finally {
    await broker.close();
  }
});

test('reconnect() drops the live connection with DISCONNECT and connects again at once, keeping the session; after end() it throws CLIENT_ENDED', async () => {
  const watcher = await mqtt.connectAsync(h.broker.tcpUrl, { protocolVersion: 5 });
  const wills = [];
  await watcher.subscribeAsync('attempts/will', { qos: 1 });
  watcher.on('message', (topic) => wills.push(topic));
  try {
    const page = await h.page();
    await page.evaluate(async (url) => {
      window.log = [];
      window.got = [];
      const client = await window.wasmqtt.connect(url, {
        clientId: 'attempts-reconnect',
        clean: false,
        shareAcrossTabs: false,
        persistence: 'memory',
        will: { topic: 'attempts/will', payload: 'gone', qos: 1 },
        // A backoff far longer than the test: only reconnect() can bring it back in time.
        reconnect: { period: 600_000 },
      });
      await client.subscribe('attempts/after', { qos: 1 }, (m) => window.got.push(m.payload.toString()));
      client.on('close', ({ reason }) => window.log.push(`close ${reason}`));
      client.on('reconnect', ({ delayMs }) => window.log.push(`reconnect ${delayMs}`));
      client.on('connect', ({ sessionPresent }) => window.log.push(`connect ${sessionPresent}`));
      window.client = client;
      window.returned = client.reconnect() === client;
    }, h.broker.wsUrl);
    await until(() => page.evaluate(() => window.log.includes('connect true')), 10_000, 'connected again');
    // The first 'connect' is the late listener's call for the connection already up.
    assert.deepEqual(await page.evaluate(() => window.log), ['connect false', 'close reconnect requested', 'reconnect 0', 'connect true']);
    assert.equal(await page.evaluate(() => window.returned), true, 'returns the client, as MQTT.js');
    // The subscription is the session's, kept by the broker across the reconnect.
    await watcher.publishAsync('attempts/after', 'still subscribed', { qos: 1 });
    await until(() => page.evaluate(() => window.got.includes('still subscribed')), 10_000, 'a message on the kept subscription');
    const ended = await page.evaluate(async () => {
      await window.client.end();
      try {
        window.client.reconnect();
        return null;
      } catch (error) {
        return { code: error.code, message: error.message, isMqttError: error instanceof window.wasmqtt.MqttError };
      }
    });
    assert.equal(ended?.code, 'CLIENT_ENDED');
    assert.equal(ended.isMqttError, true);
    assert.match(ended.message, /call connect\(/);
    assert.deepEqual(wills, [], 'DISCONNECT before the reconnect and at end(): the will was never published');
  } finally {
    await watcher.endAsync();
  }
});
