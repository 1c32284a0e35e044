// wss:// end to end: mosquitto with a WebSocket-over-TLS listener whose certificate was signed
// by a throwaway CA made at test time, and a Chromium that trusts that CA through its key pin
// only (--ignore-certificate-errors-spki-list), not through a blanket "ignore all errors".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';
import { makeTestCertificates } from '../../scripts/lib/tls.mjs';
import { launchBrowser } from '../../scripts/lib/browser.mjs';

let h, tls;
before(async () => {
  tls = makeTestCertificates();
  h = await startHarness({
    broker: { tls },
    browserArgs: [`--ignore-certificate-errors-spki-list=${tls.caPin}`],
  });
});
after(async () => {
  await h?.close();
  tls?.dispose();
});

test('over wss:// a QoS 1 message makes the round trip through the broker (MQTT-6.0.0-4: subprotocol mqtt over TLS)', async () => {
  assert.match(h.broker.wssUrl, /^wss:\/\//);
  const page = await h.page();
  const outcome = await page.evaluate(async (url) => {
    const client = await window.wasmqtt.connect(url, { persistence: 'memory', protocolVersion: 5 });
    let got;
    const message = new Promise((resolve) => { got = resolve; });
    await client.subscribe('tls/echo', { qos: 1 }, (m) => got({ topic: m.topic, text: m.text, qos: m.qos }));
    const ack = await client.publish('tls/echo', 'over TLS', { qos: 1 });
    const result = { ack, message: await message };
    await client.end();
    return result;
  }, h.broker.wssUrl);
  assert.equal(outcome.ack.reasonCode, 0, 'PUBACK success: the broker had a subscriber');
  assert.deepEqual(outcome.message, { topic: 'tls/echo', text: 'over TLS', qos: 1 });
});

test('a browser that does not trust the test CA fails the same wss:// URL with CONNECTION_FAILED naming TLS', async () => {
  const untrusting = await launchBrowser();
  try {
    const page = await h.page({ context: await untrusting.newContext() });
    const errors = await page.evaluate(async (url) => {
      const seen = [];
      const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', reconnect: false });
      client.on('error', (e) => seen.push({ code: e.code, message: e.message, fatal: e.fatal ?? false }));
      await client.ready.catch(() => {});
      await client.end({ force: true });
      return seen;
    }, h.broker.wssUrl);
    const failed = errors.find(({ code, fatal }) => code === 'CONNECTION_FAILED' && !fatal);
    assert.ok(failed, JSON.stringify(errors));
    assert.match(failed.message, /TLS failed/);
    // Reconnect is off: it stops with the failure's own code (nothing was lost) and its cause.
    const stopped = errors.find(({ code, fatal }) => code === 'CONNECTION_FAILED' && fatal);
    assert.ok(stopped, `reconnect is off: it stops; ${JSON.stringify(errors)}`);
    assert.ok(stopped.message.endsWith(failed.message), 'giving up names the cause');
  } finally {
    await untrusting.close();
  }
});
