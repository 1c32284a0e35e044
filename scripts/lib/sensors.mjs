// The demo's sensor simulator: a handful of devices, each its own MQTT connection, publishing
// telemetry on sensors/<room>/<device>/<metric> (QoS 1, JSON {t, v, seq, run}: seq counts per metric
// so a dashboard can show that nothing was lost), a retained status ("online"), a will that sets
// the status to "offline" (retained) when a device dies without saying goodbye, and commands:
// a device answers each message on commands/<device> with a reply on
// sensors/<room>/<device>/reply ({ command, qos, at }).
// It uses MQTT.js over TCP: it stands in for real devices and is not part of the browser client.
import mqtt from 'mqtt';

const ROOMS = {
  kitchen: { 'thermo-1': ['temperature', 'humidity'], 'air-1': ['co2'] },
  lounge: { 'thermo-2': ['temperature', 'humidity'], 'air-2': ['co2'] },
  office: { 'thermo-3': ['temperature', 'humidity'], 'air-3': ['co2'] },
};
const BASE = { temperature: 21, humidity: 45, co2: 600 };
const SPREAD = { temperature: 2, humidity: 8, co2: 150 };

export function statusTopic(room, device) { return `sensors/${room}/${device}/status`; }
export function commandTopic(device) { return `commands/${device}`; }

/** Starts every device; resolves with { devices, kill(name), stop() } once all are connected. */
export async function startSensors({ brokerUrl, intervalMs = 500 }) {
  const devices = new Map();
  let tick = 0;
  const sequence = new Map();
  // Tells this run's sequences from an earlier run's, for the dashboard's audit and dedup ids.
  const run = Date.now().toString(36);
  for (const [room, roomDevices] of Object.entries(ROOMS)) {
    for (const [device, metrics] of Object.entries(roomDevices)) {
      const status = statusTopic(room, device);
      const client = mqtt.connect(brokerUrl, {
        clientId: `sim-${device}`,
        protocolVersion: 5,
        reconnectPeriod: 1000,
        will: { topic: status, payload: 'offline', qos: 1, retain: true },
      });
      client.on('connect', () => {
        client.publish(status, 'online', { qos: 1, retain: true });
        client.subscribe(commandTopic(device), { qos: 2 });
      });
      client.on('message', (_topic, payload, packet) => {
        const reply = { command: payload.toString(), qos: packet.qos, at: Date.now() };
        client.publish(`sensors/${room}/${device}/reply`, JSON.stringify(reply), { qos: 1 });
      });
      client.on('error', () => {});
      devices.set(device, { room, device, metrics, client });
    }
  }
  await Promise.all([...devices.values()].map(({ client }) => new Promise((resolve) => client.once('connect', resolve))));
  const timer = setInterval(() => {
    tick += 1;
    for (const [index, { room, device, metrics, client }] of [...devices.values()].entries()) {
      if (!client.connected) continue;
      for (const metric of metrics) {
        const key = `${device}/${metric}`;
        const seq = (sequence.get(key) ?? 0) + 1;
        sequence.set(key, seq);
        // Each device on its own phase and level, so that a chart's lines are told apart.
        const phase = tick / 20 + index * 0.8;
        const level = BASE[metric] + SPREAD[metric] * 0.25 * (index % 3 - 1);
        const value = level + SPREAD[metric] * Math.sin(phase) + (Math.random() - 0.5) * SPREAD[metric] * 0.2;
        client.publish(`sensors/${room}/${device}/${metric}`, JSON.stringify({ t: Date.now(), v: Number(value.toFixed(2)), seq, run }), {
          qos: 1,
          // The id wasmqtt de-duplicates by, so a QoS 1 redelivery is not shown twice, and the
          // stamp a wasmqtt publisher's `stamp: true` adds, for the dashboard's delivery lag.
          properties: { userProperties: { 'wasmqtt-id': `${run}/${key}/${seq}`, 'wasmqtt-ts': String(Date.now()) } },
        });
      }
    }
  }, intervalMs);
  return {
    devices: [...devices.values()].map(({ room, device, metrics }) => ({ room, device, metrics })),
    /** Kills a device's connection without DISCONNECT, so the broker sends its will. */
    kill(device) {
      const entry = devices.get(device);
      entry.client.options.reconnectPeriod = 0;
      entry.client.stream.destroy();
    },
    async stop() {
      clearInterval(timer);
      await Promise.all([...devices.values()].map(({ client }) => new Promise((resolve) => client.end(true, {}, resolve))));
    },
  };
}
