// The client API in a real page against a real mosquitto: connect (3.1.1 and 5.0), subscribe,
// round trips at QoS 0/1/2, retained messages, refused logins and bad options.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

for (const protocolVersion of [4, 5]) {
  test(`MQTT ${protocolVersion === 5 ? '5.0' : '3.1.1'}: round trip at QoS 0, 1 and 2 through mosquitto`, async () => {
    const page = await h.page();
    const result = await page.evaluate(async (protocolVersion) => {
      const { connect } = window.wasmqtt;
      const client = await connect(window.config.brokerUrl, { protocolVersion, persistence: 'memory' });
      const got = [];
      const granted = await client.subscribe('rt/#', { qos: 2 }, (m) => got.push([m.topic, m.text, m.qos]));
      const acks = [];
      for (const qos of [0, 1, 2]) acks.push(await client.publish(`rt/q${qos}`, `hello ${qos}`, { qos }));
      const deadline = Date.now() + 5000;
      while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const metrics = client.metrics();
      await client.end();
      return { granted, acks, got, metrics };
    }, protocolVersion);
    assert.deepEqual(result.granted, [{ topic: 'rt/#', qos: 2, reasonCode: 2 }]);
    assert.deepEqual(result.acks, [{ reasonCode: 0 }, { reasonCode: 0 }, { reasonCode: 0 }]);
    assert.deepEqual(result.got.sort(), [['rt/q0', 'hello 0', 0], ['rt/q1', 'hello 1', 1], ['rt/q2', 'hello 2', 2]]);
    assert.equal(result.metrics.received, 3);
    assert.equal(result.metrics.inflight, 0);
  });
}

test('a retained message arrives on subscribe', async () => {
  const page = await h.page();
  const got = await page.evaluate(async () => {
    const { connect } = window.wasmqtt;
    const a = await connect(window.config.brokerUrl, { persistence: 'memory' });
    await a.publish('retained/status', 'online', { qos: 1, retain: true });
    await a.end();
    const b = await connect(window.config.brokerUrl, { persistence: 'memory' });
    const seen = [];
    await b.subscribe('retained/+', { qos: 1 }, (m) => seen.push([m.text, m.retain]));
    const deadline = Date.now() + 3000;
    while (seen.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await b.end();
    return seen;
  });
  assert.deepEqual(got, [['online', true]]);
});

test('bad options and arguments are refused with clear, typed errors', async () => {
  const page = await h.page();
  const errors = await page.evaluate(async () => {
    const { connect } = window.wasmqtt;
    const caught = async (f) => { try { await f(); return null; } catch (e) { return { name: e.name, code: e.code, message: e.message }; } };
    const out = {};
    out.keepalive = await caught(() => connect(window.config.brokerUrl, { keepalive: 70000 }));
    out.unknown = await caught(() => connect(window.config.brokerUrl, { keepAlive: 10 }));
    out.url = await caught(() => connect('http://127.0.0.1/', {}));
    const client = await connect(window.config.brokerUrl, { persistence: 'memory' });
    out.wildcard = await caught(() => client.publish('a/+', 'x'));
    out.qos3 = await caught(() => client.publish('a', 'x', { qos: 3 }));
    out.badFilter = await caught(() => client.subscribe('a/#/b'));
    await client.end();
    return out;
  });
  for (const [what, error] of Object.entries(errors)) {
    assert.ok(error, `${what} was accepted`);
    assert.equal(error.name, 'MqttError', what);
    assert.equal(error.code, 'INVALID_ARGUMENT', `${what}: ${error.message}`);
  }
  assert.match(errors.keepalive.message, /keepalive/);
  assert.match(errors.unknown.message, /unknown option keepAlive/);
  assert.match(errors.wildcard.message, /wildcard/);
});
