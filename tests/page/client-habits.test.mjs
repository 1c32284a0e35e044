// A dashboard developer who knows MQTT.js: each habit works here as there, or fails at once with
// an error that says what to write instead (README, "Coming from MQTT.js").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startHarness } from './lib/harness.mjs';
import { until } from './lib/wait.mjs';

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

async function publishFromNode(topic, payload) {
  const client = await mqtt.connectAsync(h.broker.tcpUrl, { protocolVersion: 5 });
  await client.publishAsync(topic, payload, { qos: 1 });
  await client.endAsync();
}

test("on('connect', () => subscribe(...)) added after await connect() runs once at once, and subscribes", async () => {
  const page = await h.page();
  await page.evaluate(async (url) => {
    window.got = [];
    window.connects = 0;
    const client = await window.wasmqtt.connect(url, { persistence: 'memory' });
    client.on('connect', () => {
      window.connects += 1;
      client.subscribe('habits/connect', { qos: 1 });
    });
    client.on('message', (topic, payload) => window.got.push(payload.toString()));
    window.client = client;
  }, h.broker.wsUrl);
  await until(() => page.evaluate(() => window.connects === 1), 5_000, 'the late connect listener called');
  // The SUBACK comes back before a message published now is routed to the subscription.
  await until(async () => {
    await publishFromNode('habits/connect', 'hello');
    return (await page.evaluate(() => window.got)).includes('hello');
  }, 10_000, 'a message on the topic the listener subscribed');
  assert.equal(await page.evaluate(() => window.connects), 1, 'called once, not once per message or listener call');
  await page.evaluate(() => window.client.end());
});

test('payload.toString() decodes UTF-8 (and hex, base64) as a Buffer would; message.text agrees', async () => {
  const page = await h.page();
  await page.evaluate(async (url) => {
    const client = await window.wasmqtt.connect(url, { persistence: 'memory' });
    window.seen = new Promise((resolve) => client.subscribe('habits/text', { qos: 1 }, (m) => resolve({
      utf8: m.payload.toString(), hex: m.payload.toString('hex'), base64: m.payload.toString('base64'), text: m.text,
      isBytes: m.payload instanceof Uint8Array, length: m.payload.length,
    })));
    await client.publish('habits/text', 'grüße', { qos: 1 });
    window.client = client;
  }, h.broker.wsUrl);
  const seen = await page.evaluate(() => window.seen);
  assert.deepEqual(seen, {
    utf8: 'grüße', text: 'grüße', hex: Buffer.from('grüße').toString('hex'), base64: Buffer.from('grüße').toString('base64'),
    isBytes: true, length: Buffer.byteLength('grüße'),
  });
  await page.evaluate(() => window.client.end());
});

test('publish with an MQTT.js callback as last argument calls it with (null, result) or (error)', async () => {
  const page = await h.page();
  const outcome = await page.evaluate(async (url) => {
    const client = await window.wasmqtt.connect(url, { persistence: 'memory' });
    // A subscriber, so that the broker's PUBACK says 0x00 rather than 0x10 (no matching subscribers).
    await client.subscribe('habits/cb', { qos: 1 });
    const withOptions = await new Promise((resolve) => client.publish('habits/cb', 'a', { qos: 1 }, (error, result) => resolve({ error, result })));
    const withoutOptions = await new Promise((resolve) => client.publish('habits/cb', 'b', (error, result) => resolve({ error, result })));
    const failed = await new Promise((resolve) => {
      client.publish('habits/#', 'c', { qos: 1 }, (error) => resolve({ code: error?.code })).catch(() => {});
    });
    await client.end();
    return { withOptions, withoutOptions, failed };
  }, h.broker.wsUrl);
  assert.deepEqual(outcome.withOptions, { error: null, result: { reasonCode: 0 } });
  assert.deepEqual(outcome.withoutOptions, { error: null, result: { reasonCode: 0 } });
  assert.deepEqual(outcome.failed, { code: 'INVALID_ARGUMENT' }, 'a wildcard in a publish topic reaches the callback as an error');
});

test("an MQTT.js subscribe callback (error, granted) fails at once, saying to await the result", async () => {
  const page = await h.page();
  const error = await page.evaluate(async (url) => {
    const client = await window.wasmqtt.connect(url, { persistence: 'memory' });
    try {
      await client.subscribe('habits/sub', { qos: 1 }, (err, granted) => void [err, granted]);
      return null;
    } catch (e) {
      return { code: e.code, message: e.message };
    } finally {
      await client.end();
    }
  }, h.broker.wsUrl);
  assert.equal(error?.code, 'INVALID_ARGUMENT');
  assert.match(error.message, /await subscribe/);
});

test('MQTT.js option names fail at once with what to write instead; reconnect: { period } waits the same every time', async () => {
  const page = await h.page();
  const outcome = await page.evaluate(async () => {
    const tryOptions = (options) => {
      try {
        new window.wasmqtt.MqttClient('ws://127.0.0.1:1', { persistence: 'memory', ...options }).end({ force: true });
        return null;
      } catch (e) {
        return e.message;
      }
    };
    const delays = [];
    const client = new window.wasmqtt.MqttClient('ws://127.0.0.1:1', { persistence: 'memory', reconnect: { period: 150 } });
    client.ready.catch(() => {});
    client.on('error', () => {});
    await new Promise((resolve) => client.on('reconnect', ({ delayMs }) => { delays.push(delayMs); if (delays.length === 4) resolve(); }));
    await client.end({ force: true });
    return {
      reconnectPeriod: tryOptions({ reconnectPeriod: 1000 }),
      servers: tryOptions({ servers: [{ host: 'h' }] }),
      outgoingStore: tryOptions({ outgoingStore: {} }),
      mixed: tryOptions({ reconnect: { period: 100, minDelay: 5 } }),
      delays,
    };
  });
  assert.match(outcome.reconnectPeriod, /reconnectPeriod is an MQTT\.js option; with wasmqtt write reconnect: \{ period: ms \}/);
  assert.match(outcome.servers, /connect\(\[url1, url2\], options\)/);
  assert.match(outcome.outgoingStore, /IndexedDB/);
  assert.match(outcome.mixed, /reconnect\.period is a fixed delay/);
  assert.deepEqual(outcome.delays, [150, 150, 150, 150]);
});

test('errors are MqttError instances at run time; new MqttClient before load() says what to do', async () => {
  const page = await h.page();
  const outcome = await page.evaluate(async () => {
    const { MqttError, MqttClient } = window.wasmqtt;
    let fromWasm, fromJs;
    try { new MqttClient('ws://127.0.0.1:1', { qos: 3 }); } catch (e) { fromWasm = e; }
    const client = new MqttClient('ws://127.0.0.1:1', { persistence: 'memory', reconnect: false });
    client.on('error', () => {});
    try { await client.ready; } catch (e) { fromJs = e; }
    return {
      wasmIs: fromWasm instanceof MqttError, wasmCode: fromWasm?.code, wasmName: fromWasm?.name,
      readyIs: fromJs instanceof MqttError, readyCode: fromJs?.code, isError: fromJs instanceof Error,
    };
  });
  assert.deepEqual(outcome, { wasmIs: true, wasmCode: 'INVALID_ARGUMENT', wasmName: 'MqttError', readyIs: true, readyCode: 'CONNECTION_FAILED', isError: true });
  // A page that imports the package without loading it first.
  const fresh = await h.page();
  const notLoaded = await fresh.evaluate(async () => {
    const module = await import(`/pkg/index.js?fresh=${Date.now()}`);
    try {
      new module.MqttClient('ws://127.0.0.1:1');
      return null;
    } catch (e) {
      return { code: e.code, message: e.message, is: e instanceof module.MqttError };
    }
  });
  assert.equal(notLoaded?.code, 'NOT_LOADED');
  assert.match(notLoaded.message, /call and await load\(\) first, or use `await connect\(url, options\)`/);
  assert.equal(notLoaded.is, true);
});

test("MQTT.js's end(force) and end(force, cb) forms work: end(true) closes without DISCONNECT, so the will is published", async () => {
  const { observe } = await import('./lib/clients.mjs');
  const watcher = await observe(h.broker.tcpUrl, 'habits/will');
  try {
    const page = await h.page();
    const called = await page.evaluate(async (url) => {
      const client = await window.wasmqtt.connect(url, { persistence: 'memory', will: { topic: 'habits/will', payload: 'gone' } });
      await client.end(true);
      const other = await window.wasmqtt.connect(url, { persistence: 'memory' });
      return new Promise((resolve) => other.end(false, () => resolve('called')));
    }, h.broker.wsUrl);
    assert.equal(called, 'called');
    await until(() => watcher.seen.includes('gone'), 5_000, 'the will after end(true)');
  } finally {
    await watcher.end();
  }
});

test("an 'end' listener is called once, after end() has closed the connection, as in MQTT.js", async () => {
  const page = await h.page();
  const outcome = await page.evaluate(async (url) => {
    const client = await window.wasmqtt.connect(url, { persistence: 'memory' });
    const seen = [];
    client.on('end', () => seen.push(['end', client.connected]));
    client.on('close', () => seen.push(['close']));
    const ended = client.end();
    seen.push(['called']);
    await ended;
    await client.end();
    return seen;
  }, h.broker.wsUrl);
  assert.deepEqual(outcome, [['called'], ['close'], ['end', false]]);
});
