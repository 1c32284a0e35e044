// Server redirect (MQTT 5.0 section 4.11, issue #18.5) against the built package in Chromium: a
// scripted broker answers CONNACK 0x9C / 0x9D with a Server Reference naming the real mosquitto
// the harness started; the client follows it, says so in a 'redirect' event, and a round trip
// then works on mosquitto. The session keeps the configured URL's storage name.
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

/** A scripted broker that answers every CONNECT with CONNACK `reasonCode` and `reference`. */
const redirector = (reasonCode, reference) => startScriptedBroker((packet, c) => {
  if (packet.cmd === 'connect') {
    c.send({ cmd: 'connack', sessionPresent: false, reasonCode, properties: { serverReference: reference } });
    c.close();
  }
});

/** In the page: connect to `url`, record redirects, do a QoS 1 round trip, end. */
async function roundTrip(page, url, options) {
  return page.evaluate(async ([url, options]) => {
    const client = new window.wasmqtt.MqttClient(url, { protocolVersion: 5, persistence: 'memory', reconnect: { minDelay: 50, maxDelay: 100 }, ...options });
    const redirects = [];
    const errors = [];
    client.on('redirect', (r) => redirects.push(r));
    client.on('error', (e) => errors.push(e.code));
    await client.ready;
    const got = new Promise((resolve) => client.on('message', (topic, payload) => resolve(new TextDecoder().decode(payload))));
    const topic = `redirect/${Math.random().toString(36).slice(2)}`;
    await client.subscribe(topic, { qos: 1 });
    await client.publish(topic, 'over there', { qos: 1 });
    const payload = await got;
    const databases = (await indexedDB.databases()).map((d) => d.name);
    const result = { redirects, errors, payload, databases };
    await client.end();
    return result;
  }, [url, options]);
}

for (const [reasonCode, permanent] of [[0x9c, false], [0x9d, true]]) {
  test(`CONNACK 0x${reasonCode.toString(16)} with a ws:// Server Reference leads to mosquitto, where a round trip works (MQTT 5.0 4.11)`, { timeout: 60_000 }, async () => {
    const broker = await redirector(reasonCode, `mosquitto.invalid:1883 ${h.broker.wsUrl}`);
    try {
      const page = await h.page();
      const result = await roundTrip(page, broker.wsUrl, { persistence: 'indexeddb', clientId: `redirected-${reasonCode}` });
      assert.deepEqual(result.redirects, [{ from: broker.wsUrl, to: h.broker.wsUrl, reasonCode, permanent }]);
      assert.equal(result.payload, 'over there');
      assert.deepEqual(result.errors, [], 'a followed redirect is no failure');
      // The session moves with the client id: stored under the configured URL's name only.
      // (Its name: scheme, host and port, a digest of the path, the client id.)
      assert.equal(result.databases.length, 1, result.databases.join(', '));
      assert.ok(result.databases[0].startsWith(`wasmqtt:${broker.wsUrl}/#`), result.databases[0]);
      assert.ok(result.databases[0].endsWith(`:redirected-${reasonCode}`), result.databases[0]);
      assert.equal(broker.connections.length, 1, 'one CONNECT to the redirector, then mosquitto');
    } finally {
      await broker.close();
    }
  });
}

test('with followRedirects: false the reference is reported and the client stays with its broker', { timeout: 60_000 }, async () => {
  const broker = await redirector(0x9c, h.broker.wsUrl);
  try {
    const page = await h.page();
    const outcome = await page.evaluate(async (url) => {
      const client = new window.wasmqtt.MqttClient(url, { protocolVersion: 5, persistence: 'memory', followRedirects: false, reconnect: { minDelay: 50, maxDelay: 100, maxAttempts: 1 } });
      const redirects = [];
      const errors = [];
      client.on('redirect', (r) => redirects.push(r));
      client.on('error', (e) => errors.push(e.code));
      await client.ready.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 500));
      await client.end({ force: true });
      return { redirects, errors };
    }, broker.wsUrl);
    assert.deepEqual(outcome.redirects, []);
    assert.deepEqual(outcome.errors.slice(0, 2), ['REDIRECT_NOT_FOLLOWED', 'USE_ANOTHER_SERVER']);
    assert.ok(broker.connections.length >= 2, 'retried at the same broker');
  } finally {
    await broker.close();
  }
});
