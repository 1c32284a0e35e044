// How a client ends, and what that does to its will: a graceful end() says goodbye with
// DISCONNECT before the WebSocket closes, so the broker discards the will (MQTT-3.1.2-10 in 5.0;
// MQTT-3.14.4-3 in 3.1.1); end({ force: true }) closes without one and end({ will: true }) asks
// for the will (MQTT 5 DISCONNECT 0x04), so the broker publishes it. Checked on the wire with a
// scripted broker and by the will's subscribers on a real mosquitto.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';
import { observe } from './lib/clients.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';
import { sleep, until } from './lib/wait.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

/** An MQTT.js subscriber to `topic` on the broker's TCP listener; `seen` collects payloads. */
const watch = (topic) => observe(h.broker.tcpUrl, topic);

/** Connects a page client with a will on `will/<name>`, ends it with `endOptions`. */
async function connectAndEnd(name, options, endOptions) {
  const page = await h.page();
  await page.evaluate(async ([url, options, endOptions]) => {
    const client = await window.wasmqtt.connect(url, options);
    await client.end(endOptions);
  }, [h.broker.wsUrl, { ...options, will: { topic: `will/${name}`, payload: 'gone', qos: 1 } }, endOptions]);
  await page.close();
}

// The broker publishes a will at once when the connection ends without DISCONNECT (no will
// delay), so a second is plenty for one that is coming; the control cases below prove it comes.
const WILL_WAIT_MS = 1_500;

for (const protocolVersion of [4, 5]) {
  const clientModes = [
    ['the defaults (IndexedDB, shared across tabs)', { clientId: `end-default-${protocolVersion}`, clean: false }],
    ['one tab in memory', { clientId: `end-memory-${protocolVersion}`, shareAcrossTabs: false, persistence: 'memory' }],
  ];
  for (const [mode, options] of clientModes) {
    test(`MQTT ${protocolVersion === 5 ? '5.0' : '3.1.1'}, ${mode}: after a graceful end() the broker publishes no will`, async () => {
      const name = `${options.clientId}`;
      const watcher = await watch(`will/${name}`);
      try {
        await connectAndEnd(name, { protocolVersion, ...options }, {});
        await sleep(WILL_WAIT_MS);
        assert.deepEqual(watcher.seen, [], 'no will after a graceful end()');
      } finally {
        await watcher.end();
      }
    });
  }

  for (const [how, endOptions] of [['end({ force: true })', { force: true }], ['end({ will: true })', { will: true }]]) {
    test(`MQTT ${protocolVersion === 5 ? '5.0' : '3.1.1'}: after ${how} the broker publishes the will`, async () => {
      const name = `end-${Object.keys(endOptions)[0]}-${protocolVersion}`;
      const watcher = await watch(`will/${name}`);
      try {
        await connectAndEnd(name, { protocolVersion, persistence: 'memory' }, endOptions);
        await until(() => watcher.seen.length > 0, 5_000, 'the will');
        assert.deepEqual(watcher.seen, ['gone']);
      } finally {
        await watcher.end();
      }
    });
  }
}

test('on the wire: end() sends DISCONNECT 0x00 and then closes; { will: true } sends 0x04; { force: true } sends none', async () => {
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') c.send({ cmd: 'connack', reasonCode: 0, sessionPresent: false });
  });
  try {
    const page = await h.page();
    for (const endOptions of [{}, { will: true }, { force: true }]) {
      await page.evaluate(async ([url, endOptions]) => {
        const client = await window.wasmqtt.connect(url, { persistence: 'memory', will: { topic: 'w', payload: 'x' } });
        await client.end(endOptions);
      }, [broker.wsUrl, endOptions]);
    }
    await until(() => broker.connections.length === 3 && broker.connections.every((c) => c.packetsBeforeClose), 5_000, 'three closes');
    const [graceful, withWill, forced] = broker.connections;
    assert.deepEqual(graceful.packetsBeforeClose, ['connect', 'disconnect'], 'DISCONNECT before the close frame');
    assert.equal(graceful.packets[1].reasonCode, 0x00);
    assert.deepEqual(withWill.packetsBeforeClose, ['connect', 'disconnect']);
    assert.equal(withWill.packets[1].reasonCode, 0x04, 'Disconnect with Will Message');
    assert.deepEqual(forced.packetsBeforeClose, ['connect'], 'a forced end sends no DISCONNECT');
  } finally {
    await broker.close();
  }
});

test('end() options are checked: a typo is INVALID_ARGUMENT and the client stays usable', async () => {
  const page = await h.page();
  const outcome = await page.evaluate(async (url) => {
    const client = await window.wasmqtt.connect(url, { persistence: 'memory' });
    let error = null;
    try {
      await client.end({ forse: true });
    } catch (e) {
      error = { name: e.name, code: e.code, message: e.message };
    }
    const connected = client.connected;
    await client.end();
    return { error, connected };
  }, h.broker.wsUrl);
  assert.equal(outcome.error?.code, 'INVALID_ARGUMENT');
  assert.match(outcome.error.message, /forse/);
  assert.equal(outcome.connected, true);
});
