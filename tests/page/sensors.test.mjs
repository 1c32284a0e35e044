// The demo's sensor simulator against a real mosquitto: telemetry, retained status, will.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startBroker } from '../../scripts/lib/broker.mjs';
import { startSensors, statusTopic } from '../../scripts/lib/sensors.mjs';

let broker, sensors, observer;
const seen = new Map();
before(async () => {
  broker = await startBroker();
  sensors = await startSensors({ brokerUrl: broker.tcpUrl, intervalMs: 50 });
  observer = mqtt.connect(broker.tcpUrl, { protocolVersion: 5 });
  observer.on('message', (topic, payload, packet) => seen.set(topic, { text: payload.toString(), retain: packet.retain }));
  await new Promise((resolve) => observer.once('connect', resolve));
  await observer.subscribeAsync('sensors/#');
});
after(async () => {
  await observer?.endAsync();
  await sensors?.stop();
  await broker?.dispose();
});

const until = async (predicate, ms = 5000) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('every device publishes JSON telemetry for each of its metrics', async () => {
  const topics = sensors.devices.flatMap(({ room, device, metrics }) => metrics.map((m) => `sensors/${room}/${device}/${m}`));
  await until(() => topics.every((t) => seen.has(t)));
  for (const topic of topics) {
    const { t, v } = JSON.parse(seen.get(topic).text);
    assert.ok(t > 0 && Number.isFinite(v), topic);
  }
});

test('status is retained "online", and a killed device turns "offline" through its will', async () => {
  const { room, device } = sensors.devices[0];
  const late = mqtt.connect(broker.tcpUrl, { protocolVersion: 5 });
  const statuses = [];
  late.on('message', (topic, payload, packet) => statuses.push([payload.toString(), packet.retain]));
  await new Promise((resolve) => late.once('connect', resolve));
  await late.subscribeAsync(statusTopic(room, device), { qos: 1 });
  await until(() => statuses.length >= 1);
  assert.deepEqual(statuses[0], ['online', true], 'retained status for a late subscriber');
  sensors.kill(device);
  await until(() => statuses.some(([text]) => text === 'offline'));
  await late.endAsync();
});
