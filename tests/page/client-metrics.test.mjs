// Consumer-lag metrics (issue #18.4) against the built package in Chromium and a real mosquitto:
// stamped publishes give the receiver's delivery lag, a queue past its threshold raises an
// 'alert' that clears once it drains, metrics() carries the new gauges, and metricsText() is
// OpenMetrics text a strict reader (below, written from the OpenMetrics 1.0 text format) accepts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(['gauge', 'counter', 'stateset', 'info', 'histogram', 'gaugehistogram', 'summary', 'unknown']);
const NUMBER = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

/**
 * Reads OpenMetrics text strictly: every line is a descriptor (# TYPE / # UNIT / # HELP, once
 * each, before the family's samples), a sample of the current family (counters: `_total`), or
 * the final `# EOF`; a family's unit is the suffix of its name; a family appears once; label
 * values are quoted; values are numbers. Returns { family: { type, unit, help, samples } }.
 */
function parseOpenMetrics(text) {
  assert.ok(text.endsWith('# EOF\n'), 'ends with # EOF and a newline');
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines.pop(), '# EOF');
  const families = {};
  let current = null;
  for (const line of lines) {
    assert.ok(!line.includes('# EOF'), 'one # EOF, at the end');
    const descriptor = /^# (TYPE|UNIT|HELP) (\S+) (.+)$/.exec(line);
    if (descriptor) {
      const [, kind, name, value] = descriptor;
      assert.match(name, NAME, line);
      if (!families[name]) {
        assert.ok(!current || current.name !== name, line);
        families[name] = { name, samples: [] };
        current = families[name];
      }
      assert.equal(current.name, name, `${line}: descriptors of a family come together`);
      assert.equal(current.samples.length, 0, `${line}: descriptors before samples`);
      const key = kind.toLowerCase();
      assert.equal(current[key], undefined, `${line}: once`);
      current[key] = value;
      if (kind === 'TYPE') assert.ok(TYPES.has(value), line);
      if (kind === 'UNIT') assert.ok(name.endsWith(`_${value}`), `${line}: the name ends with its unit`);
      continue;
    }
    assert.ok(!line.startsWith('#'), `unknown comment line: ${line}`);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (\S+)$/.exec(line);
    assert.ok(sample, `not a sample: ${line}`);
    const [, name, labels = '', value] = sample;
    assert.ok(current, `${line}: a sample needs its family`);
    assert.ok(current.type, `${current.name}: # TYPE`);
    const expected = current.type === 'counter' ? `${current.name}_total` : current.name;
    assert.equal(name, expected, `${line}: sample name of ${current.name} (${current.type})`);
    assert.match(value, NUMBER, line);
    current.samples.push({ labels, value: Number(value) });
  }
  for (const family of Object.values(families)) {
    assert.ok(family.type && family.help, `${family.name}: # TYPE and # HELP`);
    assert.ok(family.samples.length > 0, `${family.name}: samples`);
  }
  return families;
}

test('the strict reader refuses what OpenMetrics does not allow', () => {
  const good = '# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# HELP a_seconds A.\na_seconds 1.5\n# EOF\n';
  assert.equal(parseOpenMetrics(good).a_seconds.samples[0].value, 1.5);
  for (const bad of [
    good.replace('# EOF\n', ''),
    good.replace('# UNIT a_seconds seconds', '# UNIT a_seconds bytes'),
    '# TYPE c counter\n# HELP c C.\nc 1\n# EOF\n',
    '# TYPE a gauge\n# HELP a A.\na one\n# EOF\n',
    '# TYPE a gauge\n# HELP a A.\na{x=1} 1\n# EOF\n',
    '# TYPE a gauge\na 1\n# EOF\n',
  ]) assert.throws(() => parseOpenMetrics(bad), undefined, bad);
});

test('stamped publishes give the delivery lag; metricsText() is OpenMetrics with the new gauges', { timeout: 60_000 }, async () => {
  const page = await h.page();
  const result = await page.evaluate(async (url) => {
    const topic = `lag/${Math.random().toString(36).slice(2)}`;
    const client = new window.wasmqtt.MqttClient(url, { protocolVersion: 5, persistence: 'memory' });
    await client.ready;
    let got = 0;
    const all = new Promise((resolve) => client.on('message', () => { if (++got === 20) resolve(); }));
    await client.subscribe(topic, { qos: 1 });
    for (let i = 0; i < 20; i++) await client.publish(topic, `m${i}`, { qos: 1, stamp: true });
    await all;
    const plain = await client.publish(topic, 'p', { qos: 1 }).then(() => 'ok');
    const metrics = client.metrics();
    const text = client.metricsText();
    const v3 = new window.wasmqtt.MqttClient(url, { protocolVersion: 4, persistence: 'memory' });
    await v3.ready;
    const refused = await v3.publish(topic, 'x', { stamp: true }).then(() => null, (e) => e.code);
    await v3.end();
    await client.end();
    return { metrics, text, plain, refused };
  }, h.broker.wsUrl);
  const m = result.metrics;
  assert.equal(typeof m.deliveryLagP50Ms, 'number');
  assert.ok(m.deliveryLagP50Ms >= 0 && m.deliveryLagP99Ms >= m.deliveryLagP50Ms, JSON.stringify(m));
  assert.ok(m.deliveryLagP99Ms < 60_000, 'one machine, one clock: a lag, not a skew');
  assert.equal(m.oldestQueuedAgeMs, 0, 'everything acknowledged');
  assert.equal(m.bytesHeld, 0);
  assert.equal(typeof m.bytesHeldGrowth, 'number');
  assert.equal(result.refused, 'NOT_SUPPORTED_BEFORE_MQTT5', 'a stamp is an MQTT 5 user property');
  const families = parseOpenMetrics(result.text);
  assert.equal(families.wasmqtt_delivery_lag_p99_seconds.unit, 'seconds');
  assert.equal(families.wasmqtt_delivery_lag_p99_seconds.samples[0].value, m.deliveryLagP99Ms / 1000);
  assert.equal(families.wasmqtt_held_bytes.samples[0].value, 0);
  assert.equal(families.wasmqtt_sent_messages.type, 'counter');
  assert.ok(families.wasmqtt_sent_messages.samples[0].value >= 21);
  assert.deepEqual(families.wasmqtt_alert.samples.map((s) => s.labels),
    ['{metric="queued"}', '{metric="deliveryLagP99Ms"}', '{metric="bytesHeldGrowth"}'], 'the default rules');
});

test('a queue past its threshold raises an alert, which clears once the queue drains', { timeout: 60_000 }, async () => {
  // A broker that holds its PUBACKs until told: the queue builds up behind a window of 1.
  let release = null;
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: {} });
    if (packet.cmd === 'publish' && packet.qos === 1) {
      const ack = () => c.send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0 });
      if (release) ack(); else (broker.held ??= []).push(ack);
    }
  });
  try {
    const page = await h.page();
    await page.evaluate(async (url) => {
      window.alerts = [];
      const client = new window.wasmqtt.MqttClient(url, { protocolVersion: 5, persistence: 'memory', maxInflight: 1, alerts: { queued: 20, oldestQueuedAgeMs: 60_000 } });
      client.on('alert', (a) => window.alerts.push(a));
      await client.ready;
      window.client = client;
      window.done = Promise.all(Array.from({ length: 30 }, (_, i) => client.publish('q', `m${i}`, { qos: 1 })));
    }, broker.wsUrl);
    await page.waitForFunction(() => window.alerts.length === 1, null, { timeout: 10_000 });
    const raised = await page.evaluate(() => ({ alerts: window.alerts, metrics: window.client.metrics(), text: window.client.metricsText() }));
    assert.deepEqual(raised.alerts, [{ metric: 'queued', value: 29, threshold: 20, state: 'raised' }]);
    assert.equal(raised.metrics.queued, 29);
    assert.ok(raised.metrics.bytesHeld >= 30 * 3, 'topic and payload of 30 messages');
    assert.ok(raised.metrics.oldestQueuedAgeMs > 0);
    const families = parseOpenMetrics(raised.text);
    assert.deepEqual(families.wasmqtt_alert.samples.find((s) => s.labels === '{metric="queued"}').value, 1);
    assert.equal(families.wasmqtt_queued_messages.samples[0].value, 29);
    release = true;
    for (const ack of broker.held) ack();
    await page.evaluate(() => window.done);
    await page.waitForFunction(() => window.alerts.length === 2, null, { timeout: 10_000 });
    const cleared = await page.evaluate(async () => {
      const result = { alerts: window.alerts, text: window.client.metricsText() };
      await window.client.end();
      return result;
    });
    assert.equal(cleared.alerts[1].metric, 'queued');
    assert.equal(cleared.alerts[1].state, 'cleared');
    assert.ok(cleared.alerts[1].value <= 16, 'at 80 % of the threshold or under');
    assert.equal(parseOpenMetrics(cleared.text).wasmqtt_alert.samples[0].value, 0);
  } finally {
    await broker.close();
  }
});
