// Many tabs, one session (shareAcrossTabs): tabs of one browser context (one origin: shared
// Web Locks, BroadcastChannel and IndexedDB) that use one client id share one broker
// connection. Real Chromium pages against a real mosquitto; the broker's log says how many
// connections it saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startHarness, closedPort } from './lib/harness.mjs';
import { sleep, until } from './lib/wait.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';
import { launchBrowser, CHROMIUM_ARGS } from '../../scripts/lib/browser.mjs';

let h, publisher;
before(async () => {
  h = await startHarness();
  publisher = mqtt.connect(h.broker.tcpUrl, { protocolVersion: 5 });
  await new Promise((resolve) => publisher.once('connect', resolve));
});
after(async () => {
  await publisher?.endAsync();
  await h?.close();
});

/** Broker connections made with `clientId` so far (WebSocket ones log no "New connection"). */
const connections = (clientId) =>
  h.broker.log().split('\n').filter((line) => line.includes('New client connected') && line.includes(` as ${clientId} `)).length;
const takeovers = (clientId) =>
  h.broker.log().split('\n').filter((line) => line.includes(`Client ${clientId} already connected`)).length;

/**
 * Starts a persistent-session client in `page` that records, in window.got, every message its
 * subscription handler sees on `filter`, and its errors in window.errors.
 */
async function startTab(page, clientId, filter, url = h.broker.wsUrl) {
  await page.evaluate(async ([url, clientId, filter]) => {
    window.got = [];
    window.errors = [];
    window.events = [];
    const client = new window.wasmqtt.MqttClient(url, {
      clientId, clean: false, properties: { sessionExpiryInterval: 300 }, reconnect: { minDelay: 100, maxDelay: 500 },
    });
    window.client = client;
    client.on('error', (e) => window.errors.push({ code: e.code, reasonCode: e.reasonCode, fatal: !!e.fatal, message: e.message }));
    for (const e of ['connect', 'close']) client.on(e, () => window.events.push(e));
    await client.ready;
    await client.subscribe({ topic: filter, qos: 2 }, (m) => window.got.push(m.text));
  }, [url, clientId, filter]);
}
const got = (page) => page.evaluate(() => window.got);
const errors = (page) => page.evaluate(() => window.errors);

/** Publishes `count` messages at QoS 1 (with a de-duplication id) and QoS 2, `gap` ms apart. */
async function publishBatch(topic, name, count, gap = 0) {
  const sent = [];
  for (let i = 0; i < count; i++) {
    const qos = i % 2 ? 2 : 1;
    const text = `${name}-${i}-q${qos}`;
    // The de-duplication id (README, "Duplicates") makes QoS 1 exactly once, as QoS 2 is.
    const properties = qos === 1 ? { userProperties: { 'wasmqtt-id': text } } : {};
    await publisher.publishAsync(topic, text, { qos, properties });
    sent.push(text);
    if (gap) await sleep(gap);
  }
  return sent;
}

/** Each of `texts` exactly once in `seen`. */
function exactlyOnce(seen, texts, who) {
  for (const text of texts) {
    const n = seen.filter((t) => t === text).length;
    assert.equal(n, 1, `${who} saw ${text} ${n} times`);
  }
}

test('three tabs share one connection; every tab sees every QoS 1 and 2 message exactly once across the leader closing and a follower reloading', async () => {
  const clientId = `tabs-${Date.now()}`;
  const filter = `tabs/${clientId}/#`;
  const topic = `tabs/${clientId}/data`;
  const context = await h.browser.newContext();
  try {
    const [a, b, c] = [await h.page({ context }), await h.page({ context }), await h.page({ context })];
    for (const page of [a, b, c]) await startTab(page, clientId, filter);
    assert.equal(connections(clientId), 1, 'one broker connection for three tabs');

    // A follower's publish resolves with the broker's acknowledgement (PUBACK reason code).
    const result = await b.evaluate((t) => window.client.publish(t, 'from-b', { qos: 1 }), `tabs/${clientId}/b`);
    assert.equal(result.reasonCode, 0);
    const first = [...await publishBatch(topic, 'one', 10), 'from-b'];
    for (const [page, who] of [[a, 'a'], [b, 'b'], [c, 'c']]) {
      await until(async () => (await got(page)).length >= first.length, 10_000, `${who} got batch one`);
    }

    // The leader tab goes while messages are coming; the broker keeps them for the session
    // (MQTT-3.1.2-23: session state is kept after the network connection closes).
    const second = publishBatch(topic, 'two', 20, 15);
    await sleep(100);
    await a.close();
    const secondSent = await second;
    for (const [page, who] of [[b, 'b'], [c, 'c']]) {
      await until(async () => {
        const seen = await got(page);
        return secondSent.every((t) => seen.includes(t));
      }, 15_000, `${who} got batch two after the leader closed`).catch(async (error) => {
        const seen = await got(page);
        error.message += `; missing ${secondSent.filter((t) => !seen.includes(t))}; errors ${JSON.stringify(await errors(page))}`;
        throw error;
      });
    }
    assert.equal(connections(clientId), 2, 'the next leader made the one new connection');

    // A follower (or the new leader) reloads: its new page rejoins the shared session.
    await c.reload();
    await c.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    const third = publishBatch(topic, 'three', 10, 10);
    await startTab(c, clientId, filter);
    const thirdSent = await third;
    const fourthSent = await publishBatch(topic, 'four', 10);
    await until(async () => {
      const seen = await got(b);
      return [...thirdSent, ...fourthSent].every((t) => seen.includes(t));
    }, 15_000, 'b got batches three and four');
    await until(async () => {
      const seen = await got(c);
      return fourthSent.every((t) => seen.includes(t));
    }, 15_000, 'the reloaded c got batch four');
    await sleep(300); // time for any duplicate to show up

    exactlyOnce(await got(b), [...first, ...secondSent, ...thirdSent, ...fourthSent], 'b');
    const cSeen = await got(c);
    exactlyOnce(cSeen, fourthSent, 'the reloaded c');
    for (const text of cSeen) assert.equal(cSeen.filter((t) => t === text).length, 1, `c saw ${text} more than once`);
    assert.ok(connections(clientId) <= 3, 'a new connection only when the leader changed');
    assert.equal(takeovers(clientId), 0, 'never two connections at once (the broker took no session over)');
    for (const page of [b, c]) assert.deepEqual((await errors(page)).filter((e) => e.fatal), []);
  } finally {
    await context.close();
  }
});

test('the leader tab crashes: the browser frees its lock, a follower resumes the session and gets what was published meanwhile', async () => {
  const clientId = `crash-${Date.now()}`;
  const filter = `crash/${clientId}/#`;
  const topic = `crash/${clientId}/data`;
  const context = await h.browser.newContext();
  try {
    const [a, b] = [await h.page({ context }), await h.page({ context })];
    for (const page of [a, b]) await startTab(page, clientId, filter);
    const before = await publishBatch(topic, 'before', 4);
    await until(async () => (await got(b)).length >= before.length, 10_000, 'b got the first batch');
    // No pagehide, no hand-over: the renderer process is gone.
    const cdp = await context.newCDPSession(a);
    const crashed = new Promise((resolve) => a.once('crash', resolve));
    cdp.send('Page.crash').catch(() => {}); // never answered: the page dies with it
    await crashed;
    const during = await publishBatch(topic, 'during', 6, 20);
    await until(async () => {
      const seen = await got(b);
      return during.every((t) => seen.includes(t));
    }, 15_000, 'b, the new leader, got what was published after the crash');
    assert.equal(await b.evaluate(() => window.client.connected), true);
    assert.equal(connections(clientId), 2, 'the follower made the one new connection');
    exactlyOnce(await got(b), [...before, ...during], 'b');
    assert.deepEqual((await errors(b)).filter((e) => e.fatal), []);
  } finally {
    await context.close();
  }
});

// mosquitto 2.0.11 sends no DISCONNECT 0x8E to the client whose session it hands over (over
// WebSocket or TCP: it just closes the connection), so the broker here is a scripted one that
// does what MQTT-3.1.4-3 says. A close without 0x8E looks exactly like a network fault and is
// retried (a client that guessed would stop for good on a flaky network).
test('the broker hands the session to another client (DISCONNECT 0x8E): every tab reports SESSION_TAKEN_OVER and none reconnects; another reason reconnects', async () => {
  for (const [reasonCode, takenOver] of [[0x8e, true], [0x8b, false]]) {
    const broker = await startScriptedBroker((packet, c) => {
      if (packet.cmd === 'connect') {
        c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
        // Only the first connection: the one whose session another client takes.
        if (broker.connections.length === 1) setTimeout(() => { c.send({ cmd: 'disconnect', reasonCode }); c.close(); }, 1_500);
      }
      if (packet.cmd === 'subscribe') c.send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) });
      if (packet.cmd === 'pingreq') c.send({ cmd: 'pingresp' });
    });
    const clientId = `taken-${reasonCode}-${Date.now()}`;
    const context = await h.browser.newContext();
    try {
      const [a, b] = [await h.page({ context }), await h.page({ context })];
      for (const page of [a, b]) await startTab(page, clientId, `taken/${clientId}/#`, broker.wsUrl);
      if (takenOver) {
        for (const [page, who] of [[a, 'a'], [b, 'b']]) {
          await until(async () => (await errors(page)).some((e) => e.code === 'SESSION_TAKEN_OVER' && e.fatal && e.reasonCode === 0x8e), 10_000, `${who} reported the takeover`);
        }
        await sleep(1_500); // a loop would reconnect within reconnect.maxDelay (500 ms)
        assert.equal(broker.connections.length, 1, 'no reconnect after the takeover');
        assert.equal(await a.evaluate(() => window.client.connected), false);
      } else {
        await until(() => broker.connections.length >= 2, 10_000, 'a reconnect after "server shutting down"');
        await until(() => a.evaluate(() => window.client.connected), 10_000, 'connected again');
        assert.deepEqual((await errors(a)).filter((e) => e.fatal), []);
      }
    } finally {
      await context.close();
      await broker.close();
    }
  }
});

// A leader whose first connection is overdue (connectTimeout passed) keeps trying; a tab that
// joins it afterwards must hear that from the leader's state, or its connect() would wait for a
// 'connect' that may never come: the "connect() that never settles" of issue #14.
test("a tab that joins after the leader's first connection is overdue is told so: its connect() rejects as the leader's did", async () => {
  const url = `ws://127.0.0.1:${await closedPort()}`;
  const clientId = `overdue-${Date.now()}`;
  const context = await h.browser.newContext();
  try {
    const [a, b] = [await h.page({ context }), await h.page({ context })];
    const leader = await a.evaluate(async ([url, clientId]) => {
      window.client = new window.wasmqtt.MqttClient(url, { clientId, connectTimeout: 500, reconnect: { minDelay: 200, maxDelay: 400 } });
      window.client.on('error', () => {});
      return window.client.ready.then(() => 'connected', (e) => e.code);
    }, [url, clientId]);
    assert.equal(leader, 'CONNECTION_FAILED');
    const follower = await b.evaluate(async ([url, clientId]) => {
      const settled = window.wasmqtt.connect(url, { clientId, connectTimeout: 500 }).then(() => 'connected', (e) => e.code);
      const late = new Promise((resolve) => { setTimeout(() => resolve('not settled in 10 s'), 10_000); });
      return Promise.race([settled, late]);
    }, [url, clientId]);
    assert.equal(follower, 'CONNECTION_FAILED');
    assert.equal(await a.evaluate(() => window.client.connected), false);
  } finally {
    await context.close();
  }
});

// Web Locks exist only in secure contexts, so a LAN dashboard on plain http (a Raspberry Pi at
// http://192.168...) has none. The quick start must still run there: the tab connects on its
// own and says, in an 'error' event, what it could not do. A real insecure origin: a host name
// that the browser resolves to loopback but does not treat as potentially trustworthy.
test('on a plain-http origin (no Web Locks) a fixed clientId connects on its own and says so in an event', async () => {
  const insecure = await launchBrowser({ args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP insecure.test 127.0.0.1'] });
  try {
    const page = await insecure.newPage();
    await page.goto(`${h.server.url.replace('127.0.0.1', 'insecure.test')}/tests/page/fixtures/client.html`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    const outcome = await page.evaluate(async ([url, clientId]) => {
      const errors = [];
      const client = new window.wasmqtt.MqttClient(url, { clientId });
      client.on('error', (e) => errors.push({ code: e.code, message: e.message, fatal: e.fatal ?? false }));
      await client.ready;
      let echo;
      const echoed = new Promise((resolve) => { echo = resolve; });
      await client.subscribe('insecure/echo', { qos: 1 }, (m) => echo(m.text));
      await client.publish('insecure/echo', 'over plain http', { qos: 1 });
      const text = await echoed;
      await client.end();
      return { secure: window.isSecureContext, locks: Boolean(navigator.locks), errors, text };
    }, [h.broker.wsUrl, `insecure-${Date.now()}`]);
    assert.deepEqual([outcome.secure, outcome.locks], [false, false], 'a real insecure context');
    assert.equal(outcome.text, 'over plain http');
    assert.deepEqual(outcome.errors.map((e) => [e.code, e.fatal]), [['TABS_UNSUPPORTED', false]]);
    assert.match(outcome.errors[0].message, /this tab connects on its own/);
  } finally {
    await insecure.close();
  }
});

test('shareAcrossTabs: false gives each tab its own connection, with no TABS_UNSUPPORTED event', async () => {
  const clientId = `solo-${Date.now()}`;
  const context = await h.browser.newContext();
  try {
    const page = await h.page({ context });
    const outcome = await page.evaluate(async ([url, clientId]) => {
      const errors = [];
      const client = new window.wasmqtt.MqttClient(url, { clientId, shareAcrossTabs: false });
      client.on('error', (e) => errors.push(e.code));
      await client.ready;
      const connected = client.connected;
      await client.end();
      return { errors, connected };
    }, [h.broker.wsUrl, clientId]);
    assert.deepEqual(outcome.errors, []);
    assert.equal(outcome.connected, true);
  } finally {
    await context.close();
  }
});
