// Strict and hostile brokers (issue #15), scripted on a WebSocket, against the built package in
// Chromium: what the application is told, and that the client neither loops nor stays on a dead
// link. mosquitto cannot be made to answer these ways, so a scripted broker does. Each test has
// a timeout: on the old code the first never settled (the loop of the issue).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';
import { until } from './lib/wait.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const describe = (e) => ({ code: e.code, reasonCode: e.reasonCode ?? null });

test('a QoS 1 publish queued before CONNACK says Maximum QoS 0 fails with QOS_NOT_SUPPORTED and is never sent (MQTT-3.2.2-11)', { timeout: 30_000 }, async () => {
  // The issue: the client sent it anyway, a strict broker disconnected with 0x9B, the client
  // reconnected and sent it again, for ever, and publish() never settled.
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { maximumQoS: 0 } });
    if (packet.cmd === 'publish' && packet.qos > 0) {
      c.send({ cmd: 'disconnect', reasonCode: 0x9b });
      c.close();
    }
    if (packet.cmd === 'pingreq') c.send({ cmd: 'pingresp' });
  });
  try {
    const page = await h.page();
    const outcome = await page.evaluate(async (url) => {
      const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', reconnect: { minDelay: 50, maxDelay: 100 } });
      const failed = client.publish('t', 'x', { qos: 1 }).then(() => null, (e) => ({ code: e.code, reasonCode: e.reasonCode ?? null }));
      await client.ready;
      const qos0 = await client.publish('t', 'fine', { qos: 0 });
      const result = { failed: await failed, qos0: qos0.reasonCode };
      await client.end({ force: true });
      return result;
    }, broker.wsUrl);
    assert.deepEqual(outcome.failed, { code: 'QOS_NOT_SUPPORTED', reasonCode: 0x9b });
    assert.equal(outcome.qos0, 0);
    const sent = broker.connections.flatMap((c) => c.packets).filter((p) => p.cmd === 'publish');
    assert.deepEqual(sent.map((p) => [p.qos, p.payload.toString()]), [[0, 'fine']]);
    assert.equal(broker.connections.length, 1, 'one connection: no disconnect, no loop');
  } finally {
    await broker.close();
  }
});

test('a protocol error of the broker closes with its reason code and an error event (a topic alias we never allowed)', { timeout: 30_000 }, async () => {
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') {
      c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
      // MQTT-3.3.2-10: above the Topic Alias Maximum the client sent (none: 0).
      c.send({ cmd: 'publish', topic: 'a', payload: 'x', qos: 0, properties: { topicAlias: 5 } });
    }
  });
  try {
    const page = await h.page();
    const outcome = await page.evaluate(async (url) => {
      const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', reconnect: false });
      const error = new Promise((resolve) => client.on('error', (e) => resolve({ code: e.code, reasonCode: e.reasonCode ?? null })));
      const close = new Promise((resolve) => client.on('close', (d) => resolve({ reason: d.reason, reasonCode: d.reasonCode ?? null })));
      const result = { error: await error, close: await close };
      await client.end({ force: true });
      return result;
    }, broker.wsUrl);
    assert.deepEqual(outcome.error, { code: 'TOPIC_ALIAS_INVALID', reasonCode: 0x94 });
    assert.deepEqual(outcome.close, { reason: 'protocol error', reasonCode: 0x94 });
    const disconnect = broker.connections[0].packets.find((p) => p.cmd === 'disconnect');
    assert.equal(disconnect?.reasonCode, 0x94, 'DISCONNECT carries the reason');
  } finally {
    await broker.close();
  }
});

test('a broker gone silent is detected while the application publishes QoS 0 steadily', { timeout: 30_000 }, async () => {
  // The issue: 24 PUBLISH and 0 PINGREQ in 12 s, every send refreshing the keepalive clock.
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
    // Then nothing: a half-open link.
  });
  try {
    const page = await h.page();
    await page.evaluate(async (url) => {
      window.closeDetail = null;
      const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', keepalive: 1, pingTimeout: 500, reconnect: false });
      client.on('close', (d) => { window.closeDetail = d; });
      await client.ready;
      window.ticker = setInterval(() => client.publish('t', 'tick', { qos: 0 }).catch(() => {}), 100);
      window.client = client;
    }, broker.wsUrl);
    await until(() => page.evaluate(() => window.closeDetail !== null), 10_000, 'the dead link detected');
    const closed = await page.evaluate(() => { clearInterval(window.ticker); return window.closeDetail; });
    assert.equal(closed.reason, 'keepalive timeout', JSON.stringify(closed));
    const packets = broker.connections[0].packets;
    assert.ok(packets.some((p) => p.cmd === 'pingreq'), 'a PINGREQ went out despite the publishes');
    assert.ok(packets.filter((p) => p.cmd === 'publish').length > 3, 'the application was publishing');
    await page.evaluate(() => window.client.end({ force: true }));
  } finally {
    await broker.close();
  }
});
