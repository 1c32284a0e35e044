// connect() never leaves an application on "connecting..." without a word: it settles within
// connectTimeout, with the last failure's code and detail, and a client made with
// `new MqttClient` goes on trying and queueing (offline-first) after its `ready` rejected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, closedPort } from './lib/harness.mjs';
import { observe } from './lib/clients.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { sleep, until } from './lib/wait.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** Runs connect(url, options) in a page; resolves with how it settled (a generous bound stops the
 * wait if it never does, which is the failure this file is about). */
async function settle(page, url, options) {
  return page.evaluate(async ([url, options]) => {
    const started = performance.now();
    const never = new Promise((resolve) => setTimeout(() => resolve({ settled: false }), 20_000));
    const outcome = window.wasmqtt.connect(url, options).then(
      async (client) => { await client.end(); return { settled: true, ok: true }; },
      (e) => ({ settled: true, ok: false, name: e.name, code: e.code, message: e.message, fatal: e.fatal }),
    );
    const result = await Promise.race([outcome, never]);
    return { ...result, ms: performance.now() - started };
  }, [url, options]);
}

test('connect() to a closed port rejects within connectTimeout with the failure (CONNECTION_FAILED) and its detail', async () => {
  const url = `ws://127.0.0.1:${await closedPort()}`;
  const page = await h.page();
  const outcome = await settle(page, url, { persistence: 'memory', connectTimeout: 2_000 });
  assert.equal(outcome.settled, true, 'connect() settled');
  assert.equal(outcome.ok, false);
  assert.equal(outcome.name, 'MqttError');
  assert.equal(outcome.code, 'CONNECTION_FAILED');
  assert.match(outcome.message, /connect timeout \(2000 ms\)/);
  assert.ok(outcome.message.includes(url), outcome.message);
});

test("connect() to the broker's TCP port instead of its WebSocket one rejects with a failure code", async () => {
  const page = await h.page();
  const url = `ws://127.0.0.1:${h.broker.tcpPort}`;
  const outcome = await settle(page, url, { persistence: 'memory', connectTimeout: 2_000 });
  assert.equal(outcome.settled, true, 'connect() settled');
  assert.equal(outcome.ok, false);
  assert.ok(['CONNECTION_FAILED', 'WRONG_SUBPROTOCOL', 'CONNECT_TIMEOUT'].includes(outcome.code), outcome.code);
});

test('a WebSocket that never answers CONNECT: CONNECT_TIMEOUT', async () => {
  const silent = await startScriptedBroker(() => {});
  try {
    const page = await h.page();
    const outcome = await settle(page, silent.wsUrl, { persistence: 'memory', connectTimeout: 1_500 });
    assert.equal(outcome.settled, true, 'connect() settled');
    assert.equal(outcome.code, 'CONNECT_TIMEOUT');
    assert.match(outcome.message, /no answer from ws:\/\/127\.0\.0\.1:\d+ within the connect timeout/);
  } finally {
    await silent.close();
  }
});

test('with reconnect off, a failed first attempt rejects with its own code (not CONNECTION_LOST), fatal', async () => {
  const url = `ws://127.0.0.1:${await closedPort()}`;
  const page = await h.page();
  const outcome = await settle(page, url, { persistence: 'memory', reconnect: false });
  assert.equal(outcome.settled, true);
  assert.equal(outcome.code, 'CONNECTION_FAILED');
  assert.equal(outcome.fatal, true);
  assert.match(outcome.message, /reconnect is off/);
});

test('a rejected connect() ends its client: no attempts after it', async () => {
  const proxy = await startFaultProxy({ targetPort: h.broker.wsPort });
  try {
    proxy.refuseFor(60_000);
    const page = await h.page();
    const outcome = await settle(page, proxy.wsUrl, { persistence: 'memory', connectTimeout: 1_000, reconnect: { minDelay: 100, maxDelay: 200 } });
    assert.equal(outcome.ok, false);
    const attempts = proxy.stats.refused;
    assert.ok(attempts >= 1, `attempts made: ${attempts}`);
    await sleep(1_500);
    assert.equal(proxy.stats.refused, attempts, 'no attempt after connect() rejected');
  } finally {
    await proxy.close();
  }
});

test('offline-first: new MqttClient rejects ready in time, keeps trying, and sends what was queued once the broker is reachable', async () => {
  const proxy = await startFaultProxy({ targetPort: h.broker.wsPort });
  const { seen, end: endObserver } = await observe(h.broker.tcpUrl, 'offline-first/#');
  try {
    proxy.refuseFor(3_000);
    const page = await h.page();
    await page.evaluate((url) => {
      window.log = [];
      const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', connectTimeout: 1_000, reconnect: { minDelay: 100, maxDelay: 300 } });
      client.on('error', (e) => window.log.push(['error', e.code]));
      client.on('connect', () => window.log.push(['connect']));
      client.ready.then(() => window.log.push(['ready']), (e) => window.log.push(['ready rejected', e.code]));
      window.published = client.publish('offline-first/x', 'queued while unreachable', { qos: 1 }).then(() => 'acked', (e) => e.code);
      window.client = client;
    }, proxy.wsUrl);
    await until(async () => (await page.evaluate(() => window.log)).some(([e]) => e === 'ready rejected'), 10_000, 'ready rejected');
    assert.equal(await page.evaluate(() => window.published), 'acked');
    assert.deepEqual(seen, ['queued while unreachable']);
    const log = await page.evaluate(() => window.log);
    assert.deepEqual(log.find(([e]) => e === 'ready rejected'), ['ready rejected', 'CONNECTION_FAILED']);
    assert.ok(log.some(([e]) => e === 'connect'), JSON.stringify(log));
    await page.evaluate(() => window.client.end());
  } finally {
    await endObserver();
    await proxy.close();
  }
});

test('an error with no listener of the application shows in the console', async () => {
  const url = `ws://127.0.0.1:${await closedPort()}`;
  const page = await h.page();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await page.evaluate((url) => {
    window.client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', reconnect: { minDelay: 100, maxDelay: 200 } });
    window.client.ready.catch(() => {});
  }, url);
  await until(() => warnings.some((w) => w.includes('wasmqtt')), 5_000, 'a console warning');
  await page.evaluate(() => window.client.end({ force: true }));
});

test('reconnect.maxAttempts: after that many failed attempts in a row a fatal RECONNECT_GAVE_UP names the count and the last cause; the stored queue goes out on the next connect()', async () => {
  const proxy = await startFaultProxy({ targetPort: h.broker.wsPort });
  const { seen, end: endObserver } = await observe(h.broker.tcpUrl, 'gave-up/#');
  try {
    proxy.refuseFor(60_000);
    const page = await h.page();
    const clientId = `gave-up-${Date.now()}`;
    const outcome = await page.evaluate(async ([url, clientId]) => {
      const client = new window.wasmqtt.MqttClient(url, { clientId, clean: false, shareAcrossTabs: false, connectTimeout: 60_000, reconnect: { period: 100, maxAttempts: 3 } });
      let retries = 0;
      client.on('reconnect', () => { retries += 1; });
      const fatal = new Promise((resolve) => client.on('error', (e) => { if (e.fatal) resolve({ code: e.code, message: e.message, retries }); }));
      const publish = client.publish('gave-up/x', 'kept for the next connect', { qos: 1 }).then(() => 'acked', (e) => e.code);
      const error = await fatal;
      // The stored message is not failed: the next client of this session sends it.
      await client.end({ force: true });
      return { error, publish: await Promise.race([publish, new Promise((r) => setTimeout(() => r('pending'), 200))]) };
    }, [proxy.wsUrl, clientId]);
    assert.equal(outcome.error.code, 'RECONNECT_GAVE_UP');
    assert.match(outcome.error.message, /gave up after 3 reconnect attempts/);
    assert.match(outcome.error.message, /CONNECTION_FAILED/);
    assert.equal(outcome.error.retries, 3, 'three reconnect attempts after the first one');
    // Each attempt is a connection refused at the proxy (a failed handshake is also probed twice).
    assert.ok(proxy.stats.refused >= 4, `refused: ${proxy.stats.refused}`);
    assert.deepEqual(seen, []);
    // The same broker (the store is kept per broker and client id), reachable again.
    proxy.heal();
    await page.evaluate(async ([url, clientId]) => {
      const client = await window.wasmqtt.connect(url, { clientId, clean: false, shareAcrossTabs: false });
      window.resumed = client;
    }, [proxy.wsUrl, clientId]);
    await until(() => seen.length > 0, 10_000, 'the stored message published on the next connect()');
    assert.deepEqual(seen, ['kept for the next connect']);
    await page.evaluate(() => window.resumed.end());
  } finally {
    await endObserver();
    await proxy.close();
  }
});
