// MQTT 5 features and overlapping subscriptions in real pages against a real mosquitto 2.0:
// outbound topic aliases, subscription identifiers, copies for overlapping subscriptions
// (MQTT 3.1.1, with mosquitto's default and with allow_duplicate_messages), request/response,
// and what mosquitto (which has no enhanced-authentication backend without a plugin) says to an
// authentication method.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startHarness } from './lib/harness.mjs';
import { startBroker } from '../../scripts/lib/broker.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';
import { sleep, until } from './lib/wait.mjs';

let h, proxy;
before(async () => {
  h = await startHarness();
  proxy = await startFaultProxy({ targetPort: h.broker.wsPort });
});
after(async () => {
  await proxy?.close();
  await h?.close();
});

test('topic aliases: repeated topics go out on aliases, mosquitto resolves them, and a new connection sets them up again', async () => {
  const watcher = mqtt.connect(h.broker.tcpUrl, { protocolVersion: 5 });
  const seen = [];
  watcher.on('message', (topic, payload) => seen.push(`${topic}=${payload}`));
  await new Promise((resolve) => watcher.once('connect', resolve));
  await watcher.subscribeAsync('alias/#', { qos: 1 });
  const page = await h.page();
  const publish = (from) => page.evaluate(async (from) => {
    for (let i = from; i < from + 10; i++) {
      await window.client.publish(`alias/${i % 2 ? 'odd' : 'even'}/long/topic/name`, String(i), { qos: 1 });
    }
    return window.client.metrics().topicAliasHits;
  }, from);
  await page.evaluate(async (url) => {
    window.log = [];
    window.client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', reconnect: { minDelay: 50, maxDelay: 100 } });
    for (const e of ['connect', 'close', 'error']) window.client.on(e, (d) => window.log.push([e, d?.code ?? null]));
    await window.client.ready;
  }, proxy.wsUrl);
  const hitsBefore = await publish(0);
  assert.equal(hitsBefore, 8, 'two topics: set up once each, then on the alias');
  proxy.cutAll();
  await until(async () => (await page.evaluate(() => window.log.filter(([e]) => e === 'connect').length)) === 2, 10_000, 'reconnected');
  const hitsAfter = await publish(10);
  assert.equal(hitsAfter, 16, 'set up again on the new connection (MQTT-3.3.2-7)');
  await until(() => seen.length >= 20, 5_000, 'all 20 at the observer');
  const expected = Array.from({ length: 20 }, (_, i) => `alias/${i % 2 ? 'odd' : 'even'}/long/topic/name=${i}`);
  assert.deepEqual(seen, expected, 'every message with its full topic, in order');
  const log = await page.evaluate(() => window.log);
  assert.deepEqual(log.filter(([e]) => e === 'error'), [], 'mosquitto never found an alias wrong');
  await page.evaluate(() => window.client.end());
  await watcher.endAsync();
});

test('MQTT 5 overlapping subscriptions: mosquitto sends a copy per subscription with its identifier, and each handler gets each message once', async () => {
  const page = await h.page();
  const result = await page.evaluate(async () => {
    const client = await window.wasmqtt.connect(window.config.brokerUrl, { persistence: 'memory' });
    const got = { hash: [], plus: [], all: [], ids: [] };
    await client.subscribe('ov5/#', { qos: 1 }, (m) => { got.hash.push(m.text); got.ids.push(m.properties.subscriptionIdentifier); });
    await client.subscribe('ov5/+', { qos: 0 }, (m) => { got.plus.push(m.text); got.ids.push(m.properties.subscriptionIdentifier); });
    client.on('message', (topic, payload, m) => got.all.push(m.text));
    for (const text of ['a', 'b', 'c']) await client.publish('ov5/x', text, { qos: 1 });
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const metrics = client.metrics();
    await client.end();
    return { got, received: metrics.received };
  });
  assert.deepEqual(result.got.hash, ['a', 'b', 'c']);
  assert.deepEqual(result.got.plus, ['a', 'b', 'c']);
  assert.deepEqual(result.got.all, ['a', 'b', 'c'], 'the catch-all listener takes one copy');
  assert.equal(result.received, 3);
  // Two copies each (MQTT-3.3.4-5), each with one identifier (a number), distinct per subscription.
  assert.equal(result.got.ids.length, 6);
  assert.ok(result.got.ids.every(Number.isInteger), JSON.stringify(result.got.ids));
  assert.equal(new Set(result.got.ids).size, 2);
});

test('MQTT 5: a message carries the identifier the client gave its subscription as properties.subscriptionIdentifier, a number as in MQTT.js', async () => {
  // MQTT.js beside it, on the same mosquitto: the name and the shape to match.
  const mqttjs = mqtt.connect(h.broker.tcpUrl, { protocolVersion: 5 });
  await new Promise((resolve) => mqttjs.once('connect', resolve));
  const theirs = new Promise((resolve) => mqttjs.once('message', (topic, payload, packet) => resolve(packet.properties?.subscriptionIdentifier)));
  await mqttjs.subscribeAsync('sid/first/#', { qos: 1, properties: { subscriptionIdentifier: 5 } });
  const page = await h.page();
  const ours = await page.evaluate(async () => {
    // A new session numbers its subscriptions 1, 2, ... in the order they are made
    // (src/session/subscriptions.rs), and sends each number in its SUBSCRIBE (3.8.2.1.2).
    const client = await window.wasmqtt.connect(window.config.brokerUrl, { persistence: 'memory' });
    const got = { first: [], second: [], all: [] };
    await client.subscribe('sid/first/#', { qos: 1 }, (m) => got.first.push(m.properties.subscriptionIdentifier));
    await client.subscribe('sid/second', { qos: 1 }, (m) => got.second.push(m.properties.subscriptionIdentifier));
    client.on('message', (topic, payload, m) => got.all.push([topic, m.properties.subscriptionIdentifier]));
    await client.publish('sid/first/x', 'a', { qos: 1 });
    await client.publish('sid/second', 'b', { qos: 1 });
    const deadline = Date.now() + 5000;
    while (got.all.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await client.end();
    return got;
  });
  // MQTT-3.3.4-3: the broker sends the subscription's identifier with each message it matched.
  assert.deepEqual(ours.first, [1]);
  assert.deepEqual(ours.second, [2]);
  assert.deepEqual(ours.all, [['sid/first/x', 1], ['sid/second', 2]]);
  assert.equal(await theirs, 5, 'MQTT.js names it properties.subscriptionIdentifier, a number');
  await mqttjs.endAsync();
});

test('MQTT 3.1.1 overlapping subscriptions: each handler once, whether mosquitto sends one copy (its default) or one per subscription (allow_duplicate_messages true)', async () => {
  const duplicating = await startBroker({ extraConfig: 'allow_duplicate_messages true' });
  try {
    const page = await h.page();
    const run = (url) => page.evaluate(async (url) => {
      const client = await window.wasmqtt.connect(url, { protocolVersion: 4, persistence: 'memory' });
      const got = { hash: [], plus: [], all: [] };
      await client.subscribe('ov3/#', { qos: 1 }, (m) => got.hash.push(m.text));
      await client.subscribe('ov3/+', { qos: 0 }, (m) => got.plus.push(m.text));
      client.on('message', (topic, payload, m) => got.all.push(m.text));
      for (const text of ['21.5', '21.6', '21.7']) await client.publish('ov3/x', text, { qos: 1 });
      const deadline = Date.now() + 1500;
      while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const { copiesDropped } = client.metrics();
      await client.end();
      return { got, copiesDropped };
    }, url);
    const single = await run(h.broker.wsUrl);
    const copies = await run(duplicating.wsUrl);
    for (const [what, result] of [['one copy', single], ['a copy per subscription', copies]]) {
      assert.deepEqual(result.got.hash, ['21.5', '21.6', '21.7'], what);
      assert.deepEqual(result.got.plus, ['21.5', '21.6', '21.7'], what);
      assert.deepEqual(result.got.all, ['21.5', '21.6', '21.7'], what);
    }
    assert.equal(single.copiesDropped, 0, 'mosquitto 2.0.11 sends a 3.1.1 client one copy by default');
    assert.equal(copies.copiesDropped, 3, 'and one per subscription with allow_duplicate_messages true');
  } finally {
    await duplicating.dispose();
  }
});

test('request/response through mosquitto: a request gets its response, one nobody answers times out', async () => {
  const page = await h.page();
  const result = await page.evaluate(async () => {
    const { connect } = window.wasmqtt;
    const responder = await connect(window.config.brokerUrl, { persistence: 'memory' });
    await responder.subscribe('svc/echo', { qos: 1 }, (request) => {
      responder.respond(request, `echo:${request.text}`, { qos: 1 });
    });
    const requester = await connect(window.config.brokerUrl, { persistence: 'memory' });
    const replies = [];
    for (const text of ['one', 'two']) {
      const reply = await requester.request('svc/echo', text, { qos: 1, timeout: 5_000 });
      replies.push([reply.topic, reply.text, reply.properties.correlationData?.length > 0]);
    }
    const parallel = await Promise.all(['x', 'y', 'z'].map((t) => requester.request('svc/echo', t, { timeout: 5_000 })));
    let timeout = null;
    try {
      await requester.request('svc/nobody', 'hello?', { timeout: 300 });
    } catch (e) {
      timeout = { name: e.name, code: e.code };
    }
    let unanswerable = null;
    try {
      await requester.respond({ topic: 'a', properties: {} }, 'x');
    } catch (e) {
      unanswerable = e.code;
    }
    await responder.end();
    await requester.end();
    return { replies, parallel: parallel.map((m) => m.text), timeout, unanswerable };
  });
  assert.equal(result.replies.length, 2);
  for (const [i, [topic, text, hasCorrelation]] of result.replies.entries()) {
    assert.match(topic, /^wasmqtt\/response\/wasmqtt-/, 'the per-client response topic');
    assert.equal(text, `echo:${['one', 'two'][i]}`);
    assert.ok(hasCorrelation);
  }
  assert.deepEqual(result.parallel, ['echo:x', 'echo:y', 'echo:z'], 'each reply to its own request');
  assert.deepEqual(result.timeout, { name: 'MqttError', code: 'REQUEST_TIMEOUT' });
  assert.equal(result.unanswerable, 'INVALID_ARGUMENT');
});

test('enhanced authentication: mosquitto without an auth plugin refuses the method (CONNACK 0x8C), a fatal typed error; re-authentication needs a method', async () => {
  const page = await h.page();
  const result = await page.evaluate(async () => {
    const { connect } = window.wasmqtt;
    let refused = null;
    let asked = 0;
    try {
      await connect(window.config.brokerUrl, {
        persistence: 'memory',
        properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: 'n,,n=user,r=abc' },
        authenticate: () => { asked += 1; return 'never asked'; },
      });
    } catch (e) {
      refused = { name: e.name, code: e.code, reasonCode: e.reasonCode, fatal: e.fatal };
    }
    const plain = await connect(window.config.brokerUrl, { persistence: 'memory' });
    let reauth = null;
    try {
      await plain.reauthenticate('x');
    } catch (e) {
      reauth = e.code;
    }
    await plain.end();
    let badOption = null;
    try {
      await connect(window.config.brokerUrl, { authenticate: 'yes' });
    } catch (e) {
      badOption = e.code;
    }
    return { refused, asked, reauth, badOption };
  });
  assert.deepEqual(result.refused, { name: 'MqttError', code: 'BAD_AUTHENTICATION_METHOD', reasonCode: 0x8c, fatal: true });
  assert.equal(result.asked, 0, 'no challenge came');
  assert.equal(result.reauth, 'NO_AUTHENTICATION_METHOD');
  assert.equal(result.badOption, 'INVALID_ARGUMENT');
});

// A broker refusal and the client's own queue drop are told apart by their codes: the first is
// the broker's reason (MQTT 5 PUBACK 0x97 Quota exceeded, which mosquitto sent after a restart in
// the soak), the second QUEUE_OVERFLOW. mosquitto will not refuse on demand: a scripted broker does.
test('a publish the broker refuses with 0x97 rejects with QUOTA_EXCEEDED; one dropped from a full queue with QUEUE_OVERFLOW', async () => {
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
    if (packet.cmd === 'publish' && packet.qos === 1) c.send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0x97 });
    if (packet.cmd === 'pingreq') c.send({ cmd: 'pingresp' });
  });
  try {
    const page = await h.page();
    const outcome = await page.evaluate(async (url) => {
      const describe = (e) => ({ name: e.name, code: e.code, reasonCode: e.reasonCode ?? null });
      const refusing = await window.wasmqtt.connect(url, { persistence: 'memory' });
      const refused = await refusing.publish('t', 'x', { qos: 1 }).then(() => null, describe);
      await refusing.end({ force: true });
      // Nothing listens on port 9: both publishes wait in a queue of one.
      const offline = new window.wasmqtt.MqttClient('ws://127.0.0.1:9', {
        persistence: 'memory', queue: { maxMessages: 1, overflow: 'drop-oldest-qos0' },
      });
      offline.ready.catch(() => {});
      const first = offline.publish('t', 'first', { qos: 0 }).then(() => null, describe);
      offline.publish('t', 'second', { qos: 0 }).catch(() => {});
      const dropped = await first;
      await offline.end({ force: true });
      return { refused, dropped };
    }, broker.wsUrl);
    assert.deepEqual(outcome.refused, { name: 'MqttError', code: 'QUOTA_EXCEEDED', reasonCode: 0x97 });
    assert.equal(outcome.dropped?.code, 'QUEUE_OVERFLOW');
  } finally {
    await broker.close();
  }
});
