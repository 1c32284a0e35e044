// The built client in Chromium against each broker implementation of scripts/lib/brokers.mjs
// (mosquitto as the reference row, aedes, amqtt), at each MQTT version the broker speaks: clean
// and persistent sessions, QoS both ways, wildcards, retained messages, wills, keepalive,
// refused subscriptions, MQTT 5 features, and WebSocket framing both ways (MQTT-6.0.0-2: packets
// need not be aligned on WebSocket message boundaries). The peer on the other side of each
// exchange is MQTT.js on the broker's TCP listener. Each broker's framing as seen from the page
// is printed as `framing:` diagnostics, for the README's "Tested brokers".
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startHarness } from './lib/harness.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { BROKERS, REFUSED_FILTER } from '../../scripts/lib/brokers.mjs';
import { sleep, until } from './lib/wait.mjs';
import { startClient, events, observe } from './lib/clients.mjs';
import { recordMessages } from './lib/frames.mjs';

/** How long a message that must not come is waited for. */
const QUIET_MS = 1_000;
const V = { 4: '3.1.1', 5: '5.0' };
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

for (const spec of BROKERS) {
  describe(`${spec.name} ${spec.version()}`, () => {
    let h, proxy;
    before(async () => {
      h = await startHarness({ start: spec.start });
      proxy = await startFaultProxy({ targetPort: h.broker.wsPort });
    });
    after(async () => {
      await proxy?.close();
      await h?.close();
    });

    /** A page (or `page` again, after its last client ended) with a client connected to the broker (or `url`). */
    async function client(options, url = h.broker.wsUrl, page = null) {
      page ??= await h.page();
      await startClient(page, url, { persistence: 'memory', shareAcrossTabs: false, ...spec.clientOptions, ...options });
      return page;
    }
    const call = (page, fn, arg) => page.evaluate(fn, arg);
    const messages = (page) => page.evaluate(() => window.messages);
    const finish = (page) => page.evaluate(() => window.client.end());
    const end = (page) => finish(page).finally(() => page.close());

    for (const protocolVersion of spec.protocolVersions) {
      const v = V[protocolVersion];
      const base = { protocolVersion };
      // MQTT-3.8.4-6 (3.1.1; 5.0: 3.8.4): a message goes out at the lower of its published QoS and
      // the subscription's granted QoS. amqtt delivers at the granted QoS (deliversAtGrantedQos, a
      // quirk asserted so that a fixed amqtt shows); the client takes each at the QoS it comes with.
      const delivered = (published, granted) => (spec.quirks.deliversAtGrantedQos ? granted : Math.min(published, granted));
      const peer = (filter, qos = 2) => observe(h.broker.tcpUrl, filter, { protocolVersion, qos, ...spec.clientOptions });

      test(`MQTT ${v}: a clean session starts empty; a persistent one (fixed clientId, clean: false) is found again`, async () => {
        const clean = await client(base);
        assert.deepEqual(await call(clean, () => window.connects), [false]);
        await finish(clean);
        // MQTT 5 ends a session at disconnect unless Session Expiry Interval says otherwise.
        const persistent = { ...base, clientId: `persist-${protocolVersion}`, clean: false, ...(protocolVersion === 5 && { properties: { sessionExpiryInterval: 300 } }) };
        const first = await client(persistent, undefined, clean);
        await call(first, () => window.client.subscribe('persist/#', { qos: 1 }));
        await finish(first);
        const again = await client(persistent, undefined, first);
        // MQTT-3.2.2-2 (3.1.1) / MQTT-3.2.2-3 (5.0): Session Present 1 when the session is resumed.
        assert.deepEqual(await call(again, () => window.connects), [true]);
        await end(again);
      });

      test(`MQTT ${v}: QoS 1 and 2 messages published while a persistent client was away arrive when it comes back`, async () => {
        const persistent = { ...base, clientId: `resume-${protocolVersion}`, clean: false, ...(protocolVersion === 5 && { properties: { sessionExpiryInterval: 300 } }) };
        const first = await client(persistent);
        await call(first, () => window.client.subscribe('resume/#', { qos: 2 }));
        await finish(first);
        const publisher = await peer(null);
        await publisher.client.publishAsync('resume/a', 'm1', { qos: 1 });
        await publisher.client.publishAsync('resume/a', 'm2', { qos: 1 });
        await publisher.client.publishAsync('resume/b', 'm3', { qos: 2 });
        await publisher.end();
        // MQTT-3.1.2-5 (3.1.1) / MQTT-3.1.2-23 (5.0): the session keeps the messages for the client.
        const back = await client(persistent, undefined, first);
        await until(async () => (await messages(back)).length >= 3, 10_000, 'three queued messages');
        await sleep(300);
        assert.deepEqual((await messages(back)).map((m) => [m.topic, m.text, m.qos]),
          [['resume/a', 'm1', delivered(1, 2)], ['resume/a', 'm2', delivered(1, 2)], ['resume/b', 'm3', 2]]);
        assert.deepEqual(await call(back, () => window.connects), [true]);
        await end(back);
      });

      test(`MQTT ${v}: QoS 0, 1 and 2 both ways`, async () => {
        const observer = await peer('qos/out/#');
        const page = await client(base);
        const granted = await call(page, () => window.client.subscribe('qos/in/#', { qos: 2 }));
        assert.deepEqual(granted, [{ topic: 'qos/in/#', qos: 2, reasonCode: 2 }]);
        for (const qos of [0, 1, 2]) await observer.client.publishAsync(`qos/in/${qos}`, `in ${qos}`, { qos });
        const acks = await call(page, async () => {
          const acks = [];
          for (const qos of [0, 1, 2]) acks.push(await window.client.publish(`qos/out/${qos}`, `out ${qos}`, { qos }));
          return acks;
        });
        assert.deepEqual(acks, [{ reasonCode: 0 }, { reasonCode: 0 }, { reasonCode: 0 }]);
        await until(async () => (await messages(page)).length >= 3 && observer.seen.length >= 3, 10_000, 'three messages each way');
        await sleep(300);
        const byText = (list) => list.map((m) => [m.topic, m.text, m.qos]).sort();
        assert.deepEqual(byText(await messages(page)), [0, 1, 2].map((qos) => [`qos/in/${qos}`, `in ${qos}`, delivered(qos, 2)]));
        assert.deepEqual(byText(observer.messages), [0, 1, 2].map((qos) => [`qos/out/${qos}`, `out ${qos}`, delivered(qos, 2)]));
        assert.equal((await call(page, () => window.client.metrics())).inflight, 0);
        await observer.end();
        await end(page);
      });

      test(`MQTT ${v}: wildcards, and overlapping subscriptions each get a matching message once`, async (t) => {
        const page = await client(base);
        await call(page, async () => {
          const single = [];
          const multi = [];
          await window.client.subscribe('wild/+/temp', { qos: 1 }, (m) => single.push(m.topic));
          await window.client.subscribe('wild/#', { qos: 0 }, (m) => multi.push(m.topic));
          window.handlers = { single, multi };
        });
        const publisher = await peer(null);
        for (const topic of ['wild/a/temp', 'wild/b/hum', 'wild/a/b/temp', 'wildly/a/temp', 'wild']) {
          await publisher.client.publishAsync(topic, topic, { qos: 1 });
        }
        await publisher.end();
        await until(() => call(page, () => window.handlers.multi.length >= 4), 10_000, 'four messages on wild/#');
        await sleep(QUIET_MS);
        const { single, multi, copiesDropped } = await call(page, () => ({ ...window.handlers, copiesDropped: window.client.metrics().copiesDropped }));
        assert.deepEqual(single, ['wild/a/temp'], '+ matches one level');
        // '#' matches its parent level too (MQTT-4.7.1-2).
        assert.deepEqual(multi.sort(), ['wild', 'wild/a/b/temp', 'wild/a/temp', 'wild/b/hum']);
        t.diagnostic(`${spec.name} MQTT ${v}: overlap copies dropped by the client: ${copiesDropped}`);
        await end(page);
      });

      test(`MQTT ${v}: a retained message reaches new subscribers, and an empty retained message clears it`, async () => {
        const live = await peer('ret/#');
        const page = await client(base);
        const clear = () => call(page, () => window.client.publish('ret/status', '', { qos: 1, retain: true }));
        try {
          await call(page, () => window.client.publish('ret/status', 'online', { qos: 1, retain: true }));
          await until(() => live.seen.length >= 1, 5_000, 'the live subscriber got it');
          // MQTT-3.3.1-9 (3.1.1) / MQTT-3.3.1-12 (5.0, Retain As Published 0): retain 0 on an established subscription.
          assert.deepEqual(live.messages.map((m) => [m.text, m.retain]), [['online', false]]);
          // MQTT-3.3.1-6 and -8 (3.1.1) / MQTT-3.3.1-9 (5.0): sent to a new subscription with retain 1.
          // amqtt also sends it as the client connects, before it subscribed (a quirk): twice.
          const later = await client(base);
          await call(later, () => window.client.subscribe('ret/+', { qos: 1 }));
          const copies = spec.quirks.retainedOnConnect ? 2 : 1;
          await until(async () => (await messages(later)).length >= copies, 5_000, 'the retained message');
          await sleep(300);
          assert.deepEqual((await messages(later)).map((m) => [m.topic, m.text, m.retain]), Array(copies).fill(['ret/status', 'online', true]));
          await finish(later);
          // MQTT-3.3.1-10 and -11 (3.1.1) / MQTT-3.3.1-6 and -7 (5.0): delivered as normal, the retained message removed.
          await clear();
          await until(() => live.seen.length >= 2, 5_000, 'the empty message to the live subscriber');
          assert.deepEqual(live.messages.map((m) => m.text), ['online', '']);
          const fresh = await client(base, undefined, later);
          await call(fresh, () => window.client.subscribe('ret/+', { qos: 1 }));
          await sleep(QUIET_MS);
          assert.deepEqual(await messages(fresh), [], 'nothing retained any more');
          await end(fresh);
        } finally {
          // Left retained, it would reach later tests' clients on amqtt (retainedOnConnect).
          await clear();
          await end(page);
          await live.end();
        }
      });

      test(`MQTT ${v}: the will is published when the connection is cut`, async () => {
        const watcher = await peer('will/#', 1);
        const page = await client({ ...base, reconnect: false, will: { topic: `will/cut-${protocolVersion}`, payload: 'gone', qos: 1 } }, proxy.wsUrl);
        assert.deepEqual((await events(page))[0], ['connect', null, null]);
        proxy.cutAll();
        // MQTT-3.1.2-8 (3.1.1 and 5.0): published when the network connection closes without DISCONNECT.
        await until(() => watcher.seen.includes('gone'), 10_000, 'the will');
        await watcher.end();
        await page.close();
      });

      test(`MQTT ${v}: no will after a graceful end()`, async () => {
        const watcher = await peer('will/#', 1);
        const page = await client({ ...base, will: { topic: `will/end-${protocolVersion}`, payload: 'gone', qos: 1 } });
        assert.deepEqual((await events(page))[0], ['connect', null, null]);
        await call(page, () => window.client.end());
        await sleep(QUIET_MS);
        // MQTT-3.14.4-3 (3.1.1 and 5.0): a DISCONNECT discards the will.
        assert.deepEqual(watcher.seen, [], 'end() sent DISCONNECT, so the broker dropped the will');
        await watcher.end();
        await page.close();
      });

      test(`MQTT ${v}: idle for longer than the keepalive, the connection stays up`, async () => {
        const keepalive = 1;
        const page = await client({ ...base, keepalive, reconnect: { minDelay: 100, maxDelay: 200 } });
        // MQTT-3.1.2-23 / -24 (3.1.1), MQTT-3.1.2-22 (5.0): without PINGREQs the broker closes after 1.5 keepalives.
        await sleep(3.5 * keepalive * 1000);
        const state = await call(page, () => ({ connected: window.client.connected, metrics: window.client.metrics() }));
        assert.equal(state.connected, true);
        assert.equal(state.metrics.reconnects, 0);
        assert.ok(state.metrics.rttMs !== undefined, 'a PINGREQ was answered');
        assert.deepEqual((await events(page)).map(([e]) => e), ['connect']);
        const ack = await call(page, () => window.client.publish('idle/after', 'x', { qos: 1 }));
        assert.ok(ack.reasonCode < 0x80);
        await end(page);
      });

      test(`MQTT ${v}: a refused subscription is reported per filter, the others granted`, async () => {
        const page = await client(base);
        const result = await call(page, (refused) => window.client.subscribe([refused, 'allowed/#'], { qos: 1 }), REFUSED_FILTER);
        // MQTT-3.9.3 return code 0x80 (3.1.1); 0x87 Not authorized is one of the 5.0 failure codes.
        const refusal = protocolVersion === 5 ? 0x87 : 0x80;
        assert.deepEqual(result, [{ topic: REFUSED_FILTER, qos: undefined, reasonCode: refusal }, { topic: 'allowed/#', qos: 1, reasonCode: 1 }]);
        assert.equal(await call(page, () => window.client.connected), true);
        await end(page);
      });

      // Framing is the WebSocket layer's: tested once per broker, at its newest MQTT version.
      if (protocolVersion !== Math.max(...spec.protocolVersions)) continue;

      test(`MQTT ${v} framing: 50 QoS 1 publishes from one loop share WebSocket messages; the broker takes them all`, async (t) => {
        const observer = await peer('burst/out/#', 1);
        const page = await h.page();
        const sent = recordMessages(page, 'framesent', { protocolVersion });
        await startClient(page, h.broker.wsUrl, { ...base, persistence: 'memory', shareAcrossTabs: false, ...spec.clientOptions });
        const count = 50;
        const acks = await call(page, (count) => {
          const acks = [];
          for (let i = 0; i < count; i++) acks.push(window.client.publish('burst/out/n', `m${i}`, { qos: 1 }));
          return Promise.all(acks);
        }, count);
        assert.equal(acks.filter((a) => a.reasonCode < 0x80).length, count, 'all acknowledged');
        await until(() => observer.seen.length >= count, 10_000, `${count} messages at the observer`);
        assert.deepEqual(observer.seen, Array.from({ length: count }, (_, i) => `m${i}`), 'in order (MQTT-4.6.0-6)');
        const publishesPerMessage = sent.map((m) => m.packets.filter((p) => p.cmd === 'publish').length).filter(Boolean);
        assert.ok(Math.max(...publishesPerMessage) > 1, `several packets in one WebSocket message: ${publishesPerMessage}`);
        assert.equal(await call(page, () => window.client.connected), true);
        t.diagnostic(`framing: the client sent ${count} PUBLISH to ${spec.name} (MQTT ${v}) in ${publishesPerMessage.length} WebSocket messages`);
        await observer.end();
        await end(page);
      });

      test(`MQTT ${v} framing: a burst of 50 messages from the broker arrives whole and in order`, async (t) => {
        const page = await h.page();
        const received = recordMessages(page, 'framereceived', { protocolVersion });
        await startClient(page, h.broker.wsUrl, { ...base, persistence: 'memory', shareAcrossTabs: false, ...spec.clientOptions });
        await call(page, () => window.client.subscribe('burst/in/#', { qos: 1 }));
        const publisher = await peer(null);
        const count = 50;
        await Promise.all(Array.from({ length: count }, (_, i) => publisher.client.publishAsync('burst/in/n', `m${i}`, { qos: 1 })));
        // The publisher stays connected until all arrived: amqtt drops acknowledged messages it has
        // not yet forwarded when their publisher disconnects (README, Tested brokers).
        await until(async () => (await messages(page)).length >= count, 10_000, `${count} messages in the page`).catch(async (e) => {
          e.message += `; got ${(await messages(page)).map((m) => m.text)}; events ${JSON.stringify((await events(page)).filter(([e]) => e !== 'message'))}; packets ${received.map((m) => m.packets.map((p) => p.cmd + (p.messageId ?? '')))}`;
          throw e;
        });
        assert.deepEqual((await messages(page)).map((m) => m.text), Array.from({ length: count }, (_, i) => `m${i}`));
        await publisher.end();
        const perMessage = received.map((m) => m.packets.filter((p) => p.cmd === 'publish').length).filter(Boolean);
        assert.equal(perMessage.reduce((a, b) => a + b, 0), count, 'every PUBLISH seen on the wire once');
        t.diagnostic(`framing: ${spec.name} MQTT ${v} sent ${count} PUBLISH to the page in ${perMessage.length} WebSocket messages, at most ${Math.max(...perMessage)} in one; ${received.filter((m) => m.pending).length} message(s) ended inside a packet`);
        await end(page);
      });

      test(`MQTT ${v} framing: a 200 KB message both ways arrives intact, however it is framed`, async (t) => {
        const observer = await peer('big/out', 1);
        const page = await h.page();
        const received = recordMessages(page, 'framereceived', { protocolVersion });
        const sent = recordMessages(page, 'framesent', { protocolVersion });
        await startClient(page, h.broker.wsUrl, { ...base, persistence: 'memory', shareAcrossTabs: false, ...spec.clientOptions });
        // The page sends back what it got; each side hashes what it holds.
        await call(page, () => window.client.subscribe('big/in', { qos: 1 }, async (m) => {
          const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', m.payload));
          window.bigIn = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
          await window.client.publish('big/out', m.payload, { qos: 1 });
        }));
        const big = Buffer.from(Array.from({ length: 200 * 1024 }, (_, i) => (i * 7 + (i >> 10)) & 0xff));
        await observer.client.publishAsync('big/in', big, { qos: 1 });
        await until(() => observer.messages.length >= 1, 15_000, 'the 200 KB message back at the observer');
        assert.equal(await call(page, () => window.bigIn), sha(big), 'the page got it intact');
        assert.equal(observer.messages[0].payload.length, big.length);
        assert.equal(sha(observer.messages[0].payload), sha(big), 'the broker got it intact from the page');
        const span = (messages) => {
          const at = messages.findIndex((m) => m.pending > 100_000 || m.packets.some((p) => p.cmd === 'publish' && p.payload.length === big.length));
          const whole = messages.findIndex((m, i) => i >= at && m.packets.some((p) => p.cmd === 'publish' && p.payload.length === big.length));
          return whole - at + 1;
        };
        t.diagnostic(`framing: ${spec.name} MQTT ${v} sent the 200 KB PUBLISH in ${span(received)} WebSocket message(s); the client sent it in ${span(sent)}`);
        await observer.end();
        await end(page);
      });
    }

    test('MQTT 5: what the broker supports', async (t) => {
      if (!spec.protocolVersions.includes(5)) {
        // A 3.1.1 broker refuses a 5.0 CONNECT with a 3.1.1 CONNACK, return code 0x01 (MQTT-3.1.2-2
        // in 3.1.1); the client must say that the broker does not speak MQTT 5. Without a user name:
        // amqtt answers a 5.0 CONNECT that has one with silence (README, Tested brokers).
        const page = await h.page();
        const answer = [];
        page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => answer.push(Buffer.from(payload).toString('hex'))));
        const error = await call(page, async ([url, options]) => {
          try {
            const client = await window.wasmqtt.connect(url, { ...options, protocolVersion: 5, persistence: 'memory', reconnect: false, connectTimeout: 5_000 });
            await client.end({ force: true });
            return null;
          } catch (e) {
            return { name: e.name, code: e.code, reasonCode: e.reasonCode, fatal: e.fatal, message: e.message };
          }
        }, [h.broker.wsUrl, {}]);
        assert.equal(answer.join(''), '20020001', `a 3.1.1 CONNACK 0x01, in ${answer.length} WebSocket message(s)`);
        t.diagnostic(`${spec.name} answers a 5.0 CONNECT with CONNACK 20 02 00 01 in ${answer.length} WebSocket message(s); the client reports ${JSON.stringify(error)}`);
        assert.equal(error?.name, 'MqttError', 'the connection is refused');
        assert.equal(error.code, 'UNSUPPORTED_PROTOCOL_VERSION', error.message);
        await page.close();
        return;
      }
      const v5 = { protocolVersion: 5 };
      const observer = await observe(h.broker.tcpUrl, 'v5/#', { protocolVersion: 5, ...spec.clientOptions });
      const responder = await client(v5);
      await call(responder, () => window.client.subscribe('v5/service', { qos: 1 }, (m) => window.client.respond(m, `re: ${m.text}`)));
      const page = await client(v5);
      const result = await call(page, async () => {
        const c = window.client;
        const echoes = [];
        await c.subscribe({ topic: 'v5/echo', qos: 1, noLocal: true }, (m) => echoes.push(m.text));
        const response = await c.request('v5/service', 'ping', { qos: 1, timeout: 5_000 });
        const noSubscriber = await c.publish('nobody/here', 'x', { qos: 1 });
        for (const n of [1, 2, 3]) await c.publish('v5/echo', `own ${n}`, { qos: 1, properties: { userProperties: [['k', `v${n}`]], contentType: 'text/plain', messageExpiryInterval: 60 } });
        return { response: response.text, noSubscriber, echoes, aliasHits: c.metrics().topicAliasHits };
      });
      await observer.client.publishAsync('v5/echo', 'from the observer', { qos: 1 });
      await until(() => call(page, () => window.client.metrics().received >= 2), 5_000, 'the response and the observer\'s echo');
      await sleep(500);
      const echoes = await call(page, () => window.messages.filter((m) => m.topic === 'v5/echo').map((m) => m.text));
      // Request / response through the broker: Response Topic and Correlation Data forwarded (MQTT-3.3.2-15, -16).
      assert.equal(result.response, 're: ping');
      // 0x10 No matching subscribers is a success code for PUBACK.
      assert.equal(result.noSubscriber.reasonCode, 0x10);
      // No Local (MQTT-3.8.3-3): the page's own publishes do not come back to it.
      assert.deepEqual(echoes, ['from the observer']);
      // Topic aliases: the second and third publish on v5/echo went out as an alias; the observer got full topics.
      assert.ok(result.aliasHits >= 2, `topic alias hits ${result.aliasHits}`);
      const own = observer.messages.filter((m) => m.text.startsWith('own'));
      assert.deepEqual(own.map((m) => [m.topic, m.text]), [['v5/echo', 'own 1'], ['v5/echo', 'own 2'], ['v5/echo', 'own 3']]);
      // User Properties forwarded unaltered and in order (MQTT-3.3.2-17, -18); Content Type forwarded (MQTT-3.3.2-20).
      assert.deepEqual(own.map((m) => m.properties?.userProperties?.k), ['v1', 'v2', 'v3']);
      assert.deepEqual(own.map((m) => m.properties?.contentType), ['text/plain', 'text/plain', 'text/plain']);
      await observer.end();
      await end(page);
      await end(responder);
    });
  });
}
