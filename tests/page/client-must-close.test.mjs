// The client's side of every "MUST close the Network Connection" of MQTT 5.0 and 3.1.1 (listed
// with these tests in the README's reliability contract), against the built package in Chromium:
// a scripted broker sends what the statement forbids, and the client must close the connection,
// after a DISCONNECT with the reason on MQTT 5.0 (4.13.1), with nothing after it (MQTT-3.14.4-1;
// 3.1.1: MQTT-3.14.4-2), and tell the application with an `error` and a `close` event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';
import { answers, startClient, told } from './lib/hostile.mjs';
import { until } from './lib/wait.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const V5 = 5;
const V311 = 4;

/**
 * Connects a client (reconnect off) to a broker that answers CONNECT with `script(connection)`
 * (by default CONNACK, then `bytes` in one frame), waits until the client closed the
 * connection and the application was told `told` ('close' unless given), and returns what the
 * application was told and what the broker received.
 */
async function provoke({ version, bytes, script, options = {}, told: event = 'close' }) {
  script ??= (c) => {
    c.send(version === V5 ? { cmd: 'connack', sessionPresent: false, reasonCode: 0 } : { cmd: 'connack', sessionPresent: false, returnCode: 0 });
    c.sendRaw(bytes);
  };
  const broker = await startScriptedBroker((packet, c) => { if (packet.cmd === 'connect') script(c); }, { protocolVersion: version });
  try {
    const page = await h.page();
    await startClient(page, broker.wsUrl, { protocolVersion: version, persistence: 'memory', reconnect: false, ...options });
    await until(() => broker.connections[0]?.closed || broker.connections[0]?.closeFrameSeen, 10_000, 'the client closed the connection');
    await until(async () => (await told(page)).some((e) => e.event === event), 10_000, `a ${event} event`);
    const result = {
      told: await told(page),
      received: broker.connections[0].packetsBeforeClose ?? broker.connections[0].packets.map((p) => p.cmd),
      packets: broker.connections[0].packets,
      connections: broker.connections.length,
      answers: await answers(page),
    };
    await page.evaluate(() => window.client.end({ force: true }));
    return result;
  } finally {
    await broker.close();
  }
}

/** The client told the application `code` and closed; on 5.0 after DISCONNECT `reasonCode`, the last packet. */
function closedWith(outcome, { version, code, reasonCode }) {
  const error = outcome.told.find((e) => e.event === 'error');
  assert.equal(error?.code, code, JSON.stringify(outcome.told));
  assert.ok(outcome.told.some((e) => e.event === 'close'), 'a close event');
  if (version === V5 && reasonCode !== undefined) {
    const last = outcome.packets.at(-1);
    assert.equal(last.cmd, 'disconnect', `DISCONNECT, and nothing after it: ${outcome.received}`);
    assert.equal(last.reasonCode, reasonCode);
  } else {
    assert.ok(!outcome.packets.some((p) => p.cmd === 'disconnect'), '3.1.1 has no DISCONNECT for errors: the will stays due');
  }
  assert.equal(outcome.connections, 1, 'reconnect off: one connection');
  assert.ok(outcome.answers, 'the page answers');
}

// Packets as bytes: what no encoder would produce.
const publishWithTopic = (version, topic) => {
  const body = [0x00, topic.length, ...topic, ...(version === V5 ? [0x00] : []), 0x78];
  return Buffer.from([0x30, body.length, ...body]);
};
const ILL_FORMED_UTF8 = [0x61, 0xc3, 0x28]; // 0xC3 must be followed by a continuation byte
const WITH_NUL = [0x61, 0x00, 0x62];

for (const version of [V5, V311]) {
  const name = version === V5 ? '5.0' : '3.1.1';
  const malformed = { version, code: 'MALFORMED_PACKET', reasonCode: 0x81 };

  test(`MQTT ${name} ${version === V5 ? 'MQTT-1.5.4-1 (4.13)' : 'MQTT-1.5.3-1'}: a topic of ill-formed UTF-8 closes the connection`, { timeout: 30_000 }, async () => {
    closedWith(await provoke({ version, bytes: publishWithTopic(version, ILL_FORMED_UTF8) }), malformed);
  });

  test(`MQTT ${name} ${version === V5 ? 'MQTT-1.5.4-2 (4.13)' : 'MQTT-1.5.3-2'}: a topic with U+0000 closes the connection`, { timeout: 30_000 }, async () => {
    closedWith(await provoke({ version, bytes: publishWithTopic(version, WITH_NUL) }), malformed);
  });

  test(`MQTT ${name} ${version === V5 ? 'MQTT-2.1.3-1 (4.13)' : 'MQTT-2.2.2-2'}: invalid fixed-header flags (PUBREL with flags 0) close the connection`, { timeout: 30_000 }, async () => {
    closedWith(await provoke({ version, bytes: Buffer.from([0x60, 0x02, 0x00, 0x01]) }), malformed);
  });

  test(`MQTT ${name} MQTT-3.3.1-4: a PUBLISH with both QoS bits set closes the connection`, { timeout: 30_000 }, async () => {
    const body = [0x00, 0x01, 0x74, 0x00, 0x01, ...(version === V5 ? [0x00] : [])];
    closedWith(await provoke({ version, bytes: Buffer.from([0x36, body.length, ...body]) }), malformed);
  });

  test(`MQTT ${name} MQTT-6.0.0-1: a text WebSocket frame closes the connection`, { timeout: 30_000 }, async () => {
    const outcome = await provoke({
      version,
      script: (c) => {
        c.send(version === V5 ? { cmd: 'connack', sessionPresent: false, reasonCode: 0 } : { cmd: 'connack', sessionPresent: false, returnCode: 0 });
        c.sendText('hello');
      },
    });
    // No MQTT reason code names a wrong frame type: the client closes without DISCONNECT.
    closedWith(outcome, { version: V311, code: 'PROTOCOL_ERROR' });
  });
}

test('MQTT 5.0 MQTT-3.15.1-1: an AUTH packet with reserved flag bits set closes the connection', { timeout: 30_000 }, async () => {
  closedWith(await provoke({ version: V5, bytes: Buffer.from([0xf1, 0x00]) }), { version: V5, code: 'MALFORMED_PACKET', reasonCode: 0x81 });
});

test('MQTT 5.0 MQTT-3.2.2-4: Session Present 1 in answer to Clean Start 1 (the client has no session state) closes the connection', { timeout: 30_000 }, async () => {
  const outcome = await provoke({
    version: V5,
    script: (c) => c.send({ cmd: 'connack', sessionPresent: true, reasonCode: 0 }),
  });
  closedWith(outcome, { version: V5, code: 'PROTOCOL_ERROR', reasonCode: 0x82 });
  assert.ok(!outcome.told.some((e) => e.event === 'connect'), 'not reported as connected');
});

test('MQTT 3.1.1 MQTT-4.8.0-1: a packet type 3.1.1 reserves (15, AUTH in 5.0) closes the connection', { timeout: 30_000 }, async () => {
  closedWith(await provoke({ version: V311, bytes: Buffer.from([0xf0, 0x00]) }), { version: V311, code: 'MALFORMED_PACKET' });
});

test('MQTT 3.1.1 MQTT-4.8.0-1 (MQTT-3.2.0-1): a PUBLISH before CONNACK closes the connection', { timeout: 30_000 }, async () => {
  const outcome = await provoke({
    version: V311,
    script: (c) => c.sendRaw(publishWithTopic(V311, [0x74])),
  });
  closedWith(outcome, { version: V311, code: 'PROTOCOL_ERROR' });
  assert.ok(!outcome.told.some((e) => e.event === 'connect'), 'never connected');
});

test('MQTT 5.0 MQTT-4.13.2-1: a CONNACK refusing with 0x87 from a broker that keeps the socket open: the client closes it', { timeout: 30_000 }, async () => {
  const outcome = await provoke({
    version: V5,
    script: (c) => c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0x87 }),
    told: 'error', // a connection never up has no 'close'
  });
  const error = outcome.told.find((e) => e.event === 'error');
  assert.deepEqual([error?.code, error?.reasonCode], ['NOT_AUTHORIZED', 0x87], JSON.stringify(outcome.told));
  assert.ok(!outcome.told.some((e) => e.event === 'connect'), 'never connected');
  assert.deepEqual(outcome.received, ['connect'], 'nothing sent after the refusal');
  assert.equal(outcome.connections, 1);
  assert.ok(outcome.answers, 'the page answers');
});

test('MQTT 5.0 MQTT-4.13.2-1: a DISCONNECT 0x89 from a broker that keeps the socket open: the client closes it', { timeout: 30_000 }, async () => {
  const outcome = await provoke({
    version: V5,
    script: (c) => {
      c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 });
      c.send({ cmd: 'disconnect', reasonCode: 0x89 });
    },
  });
  assert.deepEqual(outcome.told.find((e) => e.event === 'close'), { event: 'close', reason: 'disconnected by the broker', reasonCode: 0x89 });
  assert.deepEqual(outcome.received, ['connect'], 'no DISCONNECT in answer to one');
  assert.equal(outcome.connections, 1);
  assert.ok(outcome.answers, 'the page answers');
});
