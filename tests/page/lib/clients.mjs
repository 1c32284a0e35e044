// Clients the page tests drive: a wasmqtt client in a page, its events recorded, and an MQTT.js
// observer in Node on a broker's TCP listener.
import mqtt from 'mqtt';

/**
 * Starts `new MqttClient(url, options)` in the page as window.client. window.log records its
 * events as [event, code or reason or text, fatal]; window.messages each message's
 * { topic, text, qos, retain }; window.connects each CONNACK's sessionPresent.
 */
export async function startClient(page, url, options) {
  await page.evaluate(async ([url, options]) => {
    window.log = [];
    window.messages = [];
    window.connects = [];
    const client = new window.wasmqtt.MqttClient(url, options);
    for (const e of ['connect', 'close', 'error', 'reconnect', 'offline', 'storage']) {
      client.on(e, (d) => window.log.push([e, d?.code ?? d?.reason ?? null, d?.fatal ?? null]));
    }
    client.on('connect', (d) => window.connects.push(d.sessionPresent));
    client.on('message', (topic, payload, m) => {
      window.log.push(['message', m.text, null]);
      window.messages.push({ topic, text: m.text, qos: m.qos, retain: m.retain });
    });
    window.client = client;
    await client.ready.catch(() => {});
  }, [url, options]);
}

export const events = (page) => page.evaluate(() => window.log);

/**
 * An MQTT.js client in Node subscribed to `filter` (if given); `seen` holds the payloads as text.
 * Other options go to MQTT.js's connect.
 */
export async function observe(url, filter, { protocolVersion = 5, qos = 1, ...options } = {}) {
  const client = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0, ...options });
  const seen = [];
  const messages = [];
  client.on('message', (topic, payload, packet) => {
    seen.push(payload.toString());
    messages.push({ topic, text: payload.toString(), qos: packet.qos, retain: packet.retain, payload, properties: packet.properties });
  });
  if (filter) await client.subscribeAsync(filter, { qos });
  return { client, seen, messages, end: () => client.endAsync() };
}
