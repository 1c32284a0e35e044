// The client under faults, in real pages against a real mosquitto: refused logins, the will on
// a dead socket, a half-open link caught by keepalive, a broker restart, and sessions that
// survive a real page reload (IndexedDB).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startHarness } from './lib/harness.mjs';
import { startBroker } from '../../scripts/lib/broker.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { sleep, until } from './lib/wait.mjs';
import { startClient, events, observe } from './lib/clients.mjs';

let h, proxy;
before(async () => {
  h = await startHarness({ broker: { persistence: true } });
  proxy = await startFaultProxy({ targetPort: h.broker.wsPort });
});
after(async () => {
  await proxy?.close();
  await h?.close();
});

/** A Node MQTT.js observer on the broker's TCP listener. */
const observer = (topic) => observe(h.broker.tcpUrl, topic);

test('a refused login stops with a clear, fatal error and no reconnect storm', async () => {
  const secured = await startBroker({ users: { alice: 'right' } });
  // Attempts are counted at a proxy in front of the broker: one TCP connection each.
  const counter = await startFaultProxy({ targetPort: secured.wsPort });
  try {
    const page = await h.page();
    const outcome = await page.evaluate(async (url) => {
      try {
        await window.wasmqtt.connect(url, { username: 'alice', password: 'wrong', persistence: 'memory', reconnect: { minDelay: 50, maxDelay: 100 } });
        return null;
      } catch (e) {
        return { name: e.name, code: e.code, reasonCode: e.reasonCode, fatal: e.fatal };
      }
    }, counter.wsUrl);
    // MQTT 5: CONNACK reason 0x86 "bad user name or password" (mosquitto answers 0x86 or 0x87).
    assert.equal(outcome?.name, 'MqttError');
    assert.ok(['BAD_USER_NAME_OR_PASSWORD', 'NOT_AUTHORIZED'].includes(outcome.code), outcome.code);
    assert.equal(outcome.fatal, true);
    await sleep(1_000);
    assert.equal(counter.stats.connections, 1, 'one attempt, no retries after a permanent refusal');
  } finally {
    await counter.close();
    await secured.dispose();
  }
});

test('the will is published when the socket dies without DISCONNECT', async () => {
  const watcher = await observer('will/+');
  const page = await h.page();
  await startClient(page, proxy.wsUrl, {
    persistence: 'memory',
    reconnect: false,
    will: { topic: 'will/dash', payload: 'gone', qos: 1 },
  });
  assert.deepEqual((await events(page))[0], ['connect', null, null]);
  proxy.cutAll();
  await until(() => watcher.seen.includes('gone'), 10_000, 'will delivered');
  await watcher.end();
});

test('keepalive detects a half-open link, and the client reconnects when it heals', async () => {
  const page = await h.page();
  await startClient(page, proxy.wsUrl, {
    persistence: 'memory',
    // The broker gives up on a silent client after 1.5 keepalives (MQTT-3.1.2-22 in 5.0); the client
    // must give up first, at keepalive + pingTimeout, or the test sees the broker's close instead.
    keepalive: 4,
    pingTimeout: 500,
    reconnect: { minDelay: 100, maxDelay: 200 },
  });
  proxy.stall(true);
  try {
    await until(async () => (await events(page)).some(([e, r]) => e === 'close' && r === 'KEEP_ALIVE_TIMEOUT'), 12_000, 'keepalive timeout');
    proxy.stall(false);
    proxy.cutAll();
    await until(async () => (await events(page)).filter(([e]) => e === 'connect').length >= 2, 10_000, 'reconnected');
  } catch (e) {
    e.message += `; the page's events: ${JSON.stringify(await events(page))}`;
    throw e;
  } finally {
    proxy.heal();
    await page.evaluate(() => window.client.end({ force: true }));
  }
});

test('the client reconnects after the broker restarts and carries on', async () => {
  const page = await h.page();
  await startClient(page, h.broker.wsUrl, { persistence: 'memory', reconnect: { minDelay: 100, maxDelay: 300 } });
  await h.broker.restart({ kill: true });
  await until(async () => (await events(page)).filter(([e]) => e === 'connect').length >= 2, 15_000, 'reconnected');
  const log = await events(page);
  assert.ok(log.some(([e]) => e === 'reconnect'), 'a reconnect event was emitted');
  const ack = await page.evaluate(() => window.client.publish('after/restart', 'x', { qos: 1 }));
  assert.ok(ack.reasonCode < 0x80, 'a success code (0x10 "no matching subscribers" is one)');
  await page.evaluate(() => window.client.end());
});

test('a persistent session survives a page reload: messages published meanwhile arrive once', async () => {
  const context = await h.browser.newContext();
  const page = await h.page({ context });
  const options = { clientId: 'reload-sub', clean: false, protocolVersion: 5 };
  await startClient(page, h.broker.wsUrl, options);
  await page.evaluate(() => window.client.subscribe('reload/#', { qos: 1 }));
  await page.evaluate(() => window.client.end({ force: true }));
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });

  const publisher = mqtt.connect(h.broker.tcpUrl, { protocolVersion: 5 });
  await new Promise((resolve) => publisher.once('connect', resolve));
  for (const n of [1, 2, 3]) await publisher.publishAsync('reload/x', `m${n}`, { qos: 1 });
  await publisher.endAsync();

  // After the reload the subscription comes back from IndexedDB and the broker's session.
  await page.evaluate(async (options) => {
    window.got = [];
    const client = new window.wasmqtt.MqttClient(window.config.brokerUrl, options);
    const iterator = client.messages('reload/#');
    (async () => { for await (const m of iterator) window.got.push(m.text); })();
    window.client = client;
    await client.ready;
  }, options);
  await until(() => page.evaluate(() => window.got.length >= 3), 10_000, 'three messages');
  await sleep(300);
  assert.deepEqual(await page.evaluate(() => window.got), ['m1', 'm2', 'm3']);
  await page.evaluate(() => window.client.end());
  await context.close();
});

test('QoS 1 messages published offline just before a reload are delivered after it', async () => {
  const watcher = await observer('outbox/#');
  const context = await h.browser.newContext();
  const page = await h.page({ context });
  const options = { clientId: 'outbox-pub', clean: false, connectTimeout: 500, reconnect: { minDelay: 100, maxDelay: 200 } };
  proxy.refuseFor(60_000);
  await page.evaluate(async ([url, options]) => {
    const client = new window.wasmqtt.MqttClient(url, options);
    client.ready.catch(() => {});
    for (const n of [1, 2, 3]) client.publish('outbox/x', `q${n}`, { qos: 1 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 300)); // long enough for the IndexedDB commit
  }, [proxy.wsUrl, options]);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  proxy.refuseFor(0);
  await page.evaluate(async ([url, options]) => {
    window.client = new window.wasmqtt.MqttClient(url, options);
    await window.client.ready;
  }, [proxy.wsUrl, options]);
  await until(() => watcher.seen.length >= 3, 10_000, 'outbox delivered');
  await sleep(300);
  assert.deepEqual(watcher.seen, ['q1', 'q2', 'q3']);
  await page.evaluate(() => window.client.end());
  await watcher.end();
  await context.close();
});
