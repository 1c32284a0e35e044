// MQTT 5 enhanced authentication (section 4.12) from a real page: the `authenticate` option
// answering challenges, `reauthenticate()`, and a broker breaking the rules. mosquitto has no
// enhanced-authentication backend without a plugin, so the broker here is a scripted one on a
// WebSocket (tests/page/lib/scripted-broker.mjs); the session core's flows are proven on the
// host in tests/session_auth.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';
import { startScriptedBroker } from './lib/scripted-broker.mjs';
import { sleep, until } from './lib/wait.mjs';

const METHOD = 'TEST-CHALLENGE';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

const auth = (reasonCode, data, method = METHOD) => ({
  cmd: 'auth',
  reasonCode,
  properties: { authenticationMethod: method, authenticationData: Buffer.from(data) },
});
const text = (buffer) => buffer?.toString();

test('challenges are answered through the authenticate option, and reauthenticate() runs on the live connection', async () => {
  const broker = await startScriptedBroker((packet, c) => {
    if (packet.cmd === 'connect') c.send(auth(0x18, 'nonce-1'));
    if (packet.cmd === 'pingreq') c.send({ cmd: 'pingresp' });
    if (packet.cmd !== 'auth') return;
    const data = text(packet.properties?.authenticationData);
    if (packet.reasonCode === 0x19) c.send(auth(0x18, 'nonce-2'));
    else if (data === 'answer:nonce-1') {
      c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { authenticationMethod: METHOD } });
    } else if (data === 'answer:nonce-2') c.send(auth(0x00, 'welcome back'));
    else c.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0x87 });
  });
  try {
    const page = await h.page();
    const result = await page.evaluate(async ([url, method]) => {
      const asked = [];
      const client = await window.wasmqtt.connect(url, {
        persistence: 'memory',
        properties: { authenticationMethod: method, authenticationData: 'hello' },
        authenticate: async ({ method, data, reasonCode }) => {
          const challenge = new TextDecoder().decode(data);
          asked.push([method, challenge, reasonCode]);
          await new Promise((r) => setTimeout(r, 10)); // an answer may take its time
          return `answer:${challenge}`;
        },
      });
      const events = [];
      client.on('reauthenticated', ({ properties }) => events.push(new TextDecoder().decode(properties.authenticationData)));
      const properties = await client.reauthenticate('again');
      const final = new TextDecoder().decode(properties.authenticationData);
      await client.end({ force: true });
      return { asked, final, events };
    }, [broker.wsUrl, METHOD]);
    assert.deepEqual(result.asked, [[METHOD, 'nonce-1', 0x18], [METHOD, 'nonce-2', 0x18]]);
    assert.equal(result.final, 'welcome back');
    assert.deepEqual(result.events, ['welcome back']);
    const packets = broker.connections[0].packets.filter((p) => ['connect', 'auth'].includes(p.cmd));
    assert.deepEqual(
      packets.map((p) => [p.cmd, p.reasonCode ?? null, p.properties?.authenticationMethod, text(p.properties?.authenticationData)]),
      [
        ['connect', null, METHOD, 'hello'],
        ['auth', 0x18, METHOD, 'answer:nonce-1'], // MQTT-4.12.0-3, MQTT-4.12.0-5
        ['auth', 0x19, METHOD, 'again'], // MQTT-4.12.1-1
        ['auth', 0x18, METHOD, 'answer:nonce-2'],
      ],
    );
  } finally {
    await broker.close();
  }
});

for (const [what, reply, expected] of [
  ['a broker that switches method gets DISCONNECT 0x82 and the page a typed error (MQTT-4.12.0-5)', auth(0x18, 'x', 'OTHER'), { code: 'AUTHENTICATION_PROTOCOL_ERROR', disconnect: 0x82 }],
  ['an authenticate option that throws abandons the attempt with DISCONNECT 0x80', auth(0x18, 'fail please'), { code: 'AUTHENTICATION_FAILED', disconnect: 0x80 }],
]) {
  test(what, async () => {
    const broker = await startScriptedBroker((packet, c) => {
      if (packet.cmd === 'connect') c.send(reply);
    });
    try {
      const page = await h.page();
      await page.evaluate(async ([url, method]) => {
        window.errors = [];
        const client = new window.wasmqtt.MqttClient(url, {
          persistence: 'memory',
          reconnect: false,
          properties: { authenticationMethod: method },
          authenticate: async () => { throw new Error('cannot answer that'); },
        });
        client.on('error', (e) => window.errors.push({ name: e.name, code: e.code, reasonCode: e.reasonCode }));
        window.client = client;
      }, [broker.wsUrl, METHOD]);
      await until(async () => (await page.evaluate(() => window.errors)).some((e) => e.code === expected.code), 5_000, expected.code);
      await until(() => broker.connections[0]?.packets.some((p) => p.cmd === 'disconnect'), 5_000, 'DISCONNECT at the broker');
      const disconnect = broker.connections[0].packets.find((p) => p.cmd === 'disconnect');
      assert.equal(disconnect.reasonCode, expected.disconnect);
      const errors = await page.evaluate(() => window.errors);
      assert.equal(errors.find((e) => e.code === expected.code).name, 'MqttError');
      await page.evaluate(() => window.client.end({ force: true }));
    } finally {
      await broker.close();
    }
  });
}
