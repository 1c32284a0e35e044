// IndexedDB going wrong under a persistent session, in real pages against a real mosquitto:
// records that cannot be read, a storage quota that is used up, and no IndexedDB at all. Bad
// stored data gets a clear typed report and loses nothing that could be kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startHarness } from './lib/harness.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';
import { launchUserBrowser } from '../../scripts/lib/browser.mjs';
import { sleep, until } from './lib/wait.mjs';

let h, proxy;
before(async () => {
  h = await startHarness();
  proxy = await startFaultProxy({ targetPort: h.broker.wsPort });
});
after(async () => {
  await proxy?.close();
  await h?.close();
});

/** A Node MQTT.js observer on the broker's TCP listener; `show` turns a payload into what is kept. */
async function observer(topic, show = (payload) => payload.toString()) {
  const client = mqtt.connect(h.broker.tcpUrl, { protocolVersion: 5 });
  const seen = [];
  client.on('message', (t, payload) => seen.push(show(payload)));
  await new Promise((resolve) => client.once('connect', resolve));
  await client.subscribeAsync(topic, { qos: 1 });
  return { seen, end: () => client.endAsync() };
}

/** 64-bit FNV-1a of `text`'s UTF-8 bytes, as 16 hex digits. */
const fnv1a64 = (text) => {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
};

/** Origin and path of `url` as src/session/store_name.rs reads them (the port always written). */
const identity = (url) => {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'wss:' ? '443' : '80');
  return { origin: `${u.protocol}//${u.hostname}:${port}`, path: u.pathname };
};

/**
 * The IndexedDB database of one persistent session: the broker's identity (scheme, host, port,
 * and a digest of the path, which may hold a token) and the client id, as
 * src/session/store_name.rs builds it.
 */
const databaseName = (url, clientId) => {
  const { origin, path } = identity(url);
  return `wasmqtt:${origin}/#${fnv1a64(path)}:${clientId}`;
};

/**
 * Every record of the session's object store, as [key, value] with values made printable: the
 * batches (one a transaction, `t/<number>`: src/client/batches.rs) read in number order after
 * any entry an older version left under its record's own key, as the next load reads them.
 */
const storedEntries = (page, name) => page.evaluate(async (name) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    if (!db.objectStoreNames.contains('records')) return [];
    const store = db.transaction('records').objectStore('records');
    const get = (request) => new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const [keys, values] = [await get(store.getAllKeys()), await get(store.getAll())];
    const printable = (value) => (value instanceof Uint8Array ? `bytes:${value.length}` : typeof value);
    const records = new Map();
    const batches = [];
    keys.forEach((key, i) => {
      if (typeof key === 'string' && key.startsWith('t/')) batches.push([key, values[i]]);
      else records.set(key, printable(values[i]));
    });
    // A batch: a format byte, then each write's key (u16 length) and value (u32 length,
    // 0xffffffff for a deletion), big-endian.
    for (const [, bytes] of batches.sort(([a], [b]) => (a < b ? -1 : 1))) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let at = 1; at < bytes.length;) {
        const keyLength = view.getUint16(at);
        const key = new TextDecoder().decode(bytes.subarray(at + 2, at + 2 + keyLength));
        const valueLength = view.getUint32(at + 2 + keyLength);
        at += 6 + keyLength;
        if (valueLength === 0xffffffff) {
          records.delete(key);
        } else {
          records.set(key, `bytes:${valueLength}`);
          at += valueLength;
        }
      }
    }
    return [...records].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
  } finally {
    db.close();
  }
}, name);

/**
 * Starts a client in the page, recording its events in window.log; resolves once it is connected,
 * or with `offline`, once its stored session is loaded (the first 'storage' event).
 */
async function startClient(page, url, options, { offline = false } = {}) {
  await page.evaluate(async ([url, options, offline]) => {
    window.log = [];
    const client = new window.wasmqtt.MqttClient(url, options);
    for (const e of ['connect', 'close', 'reconnect']) client.on(e, () => window.log.push({ event: e }));
    client.on('error', (e) => window.log.push({ event: 'error', code: e.code, message: e.message, record: e.record }));
    client.on('storage', (d) => window.log.push({ event: 'storage', persistence: d.persistence, code: d.error?.code, record: d.error?.record }));
    window.client = client;
    if (offline) await new Promise((resolve) => client.once('storage', resolve));
    else await client.ready.catch(() => {});
  }, [url, options, offline]);
}
const log = (page) => page.evaluate(() => window.log);

test('records that cannot be read are reported by key and skipped; the good ones still load and the client works', async () => {
  const watcher = await observer('corrupt/#');
  const context = await h.browser.newContext();
  const page = await h.page({ context });
  const options = { clientId: 'corrupt-1', clean: false, connectTimeout: 500, reconnect: { minDelay: 100, maxDelay: 200 } };
  const name = databaseName(proxy.wsUrl, options.clientId);
  // Offline: the QoS 1 message waits in the outbox, stored in IndexedDB.
  proxy.refuseFor(60_000);
  await startClient(page, proxy.wsUrl, options, { offline: true });
  await page.evaluate(() => { window.client.publish('corrupt/x', 'kept', { qos: 1 }).catch(() => {}); });
  await until(async () => (await storedEntries(page, name)).some(([key]) => key.startsWith('o/')), 5_000, 'outbox stored');

  // Damage the store behind the client's back: bytes that are no record, a value that is not
  // bytes, a key that is not a string.
  await page.evaluate(async (name) => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const tx = db.transaction('records', 'readwrite');
    const store = tx.objectStore('records');
    store.put(new Uint8Array([1, 7, 0, 1, 0xde, 0xad]), 'o/00000000000000ff');
    store.put('not bytes', 's/bad');
    store.put(new Uint8Array([1]), 42);
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = () => reject(tx.error); });
    db.close();
  }, name);

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  proxy.refuseFor(0);
  await startClient(page, proxy.wsUrl, options);
  await until(() => watcher.seen.includes('kept'), 10_000, 'the stored message delivered');

  const events = await log(page);
  const reports = events.filter((e) => e.event === 'storage' && e.code === 'STORE_CORRUPT_RECORD');
  assert.deepEqual(reports.map((e) => e.record).sort(), ['42', 'o/00000000000000ff', 's/bad']);
  assert.ok(reports.every((e) => e.persistence === 'indexeddb'), 'the store stays in use');
  const errors = events.filter((e) => e.event === 'error');
  assert.deepEqual(errors.map((e) => e.code), ['STORE_CORRUPT_RECORD', 'STORE_CORRUPT_RECORD', 'STORE_CORRUPT_RECORD']);
  for (const e of errors) assert.ok(e.message.includes(e.record), `the message names the record: ${e.message}`);

  // The client keeps working, and persisting.
  const ack = await page.evaluate(() => window.client.publish('corrupt/y', 'after', { qos: 1 }));
  assert.ok(ack.reasonCode < 0x80);
  await until(() => watcher.seen.includes('after'), 5_000, 'a new message delivered');
  assert.deepEqual(watcher.seen, ['kept', 'after'], 'each once');
  assert.equal(await page.evaluate(() => window.client.metrics().persistence), 'indexeddb');
  await page.evaluate(() => window.client.end());
  await watcher.end();
  await context.close();
});

test('without IndexedDB (removed from the page) the client says so, runs in memory and works', async () => {
  const context = await h.browser.newContext();
  // Before any page script: as in a browser or mode that has no IndexedDB.
  await context.addInitScript(() => Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true }));
  const page = await h.page({ context });
  assert.equal(await page.evaluate(() => typeof window.indexedDB), 'undefined');
  await startClient(page, h.broker.wsUrl, { clientId: 'no-idb', clean: false });
  const outcome = await page.evaluate(async () => {
    let got;
    const message = new Promise((resolve) => { got = resolve; });
    await window.client.subscribe('noidb/x', { qos: 1 }, (m) => got(m.text));
    await window.client.publish('noidb/x', 'in memory', { qos: 1 });
    return { text: await message, persistence: window.client.metrics().persistence };
  });
  assert.deepEqual(outcome, { text: 'in memory', persistence: 'memory' });
  const storage = (await log(page)).filter((e) => e.event === 'storage');
  assert.deepEqual(storage, [{ event: 'storage', persistence: 'memory', code: 'STORE_UNAVAILABLE', record: undefined }]);
  await page.evaluate(() => window.client.end());
  await context.close();
});

test('in a sandboxed frame (an opaque origin, where IndexedDB is refused) the client falls back to memory and says so', async () => {
  const page = await h.page();
  await page.goto(`${h.server.url}/tests/page/fixtures/sandboxed.html`);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  await frame.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  assert.equal(await frame.evaluate(() => window.origin), 'null', 'an opaque origin');
  const outcome = await frame.evaluate(async () => {
    const events = [];
    const client = new window.wasmqtt.MqttClient(window.config.brokerUrl, { clientId: 'sandboxed', clean: false });
    client.on('storage', (d) => events.push([d.persistence, d.error?.code, d.error?.message]));
    await client.ready;
    let got;
    const message = new Promise((resolve) => { got = resolve; });
    await client.subscribe('sandbox/x', { qos: 1 }, (m) => got(m.text));
    await client.publish('sandbox/x', 'still works', { qos: 1 });
    const text = await message;
    await client.end();
    return { events, text };
  });
  assert.equal(outcome.text, 'still works');
  assert.equal(outcome.events.length, 1, JSON.stringify(outcome.events));
  const [persistence, code, message] = outcome.events[0];
  assert.deepEqual([persistence, code], ['memory', 'STORE_UNAVAILABLE']);
  assert.match(message, /IndexedDB is not available/);
});

test('a used-up storage quota: STORE_QUOTA_EXCEEDED, the client carries on in memory, and stores the session again once there is room', async () => {
  const watcher = await observer('quota/#', (payload) => `${payload.length} bytes`);
  // IndexedDB of an incognito context lives in memory and has no quota to exceed: a profile on disk.
  const user = await launchUserBrowser();
  try {
    const page = await h.page({ context: user.context });
    const cdp = await user.context.newCDPSession(page);
    // Set before the origin's first IndexedDB write: Chromium reads the quota when it first needs it.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: h.server.url, quotaSize: 64 * 1024 });
    const options = { clientId: 'quota-1', clean: false, connectTimeout: 500, reconnect: { minDelay: 100, maxDelay: 200 } };
    const name = databaseName(proxy.wsUrl, options.clientId);
    await startClient(page, proxy.wsUrl, options);
    await page.evaluate(() => window.client.subscribe('quota/in', { qos: 1 }));
    await until(async () => (await storedEntries(page, name)).some(([key]) => key === 's/quota/in'), 5_000, 'subscription stored');

    // Offline, so that the message stays queued; 200 kB of random bytes do not fit in 64 kB.
    proxy.refuseFor(120_000);
    proxy.cutAll();
    await until(async () => (await log(page)).some((e) => e.event === 'close'), 5_000, 'offline');
    await page.evaluate(() => {
      const payload = new Uint8Array(200_000);
      for (let i = 0; i < payload.length; i += 65_536) crypto.getRandomValues(payload.subarray(i, i + 65_536));
      window.client.publish('quota/big', payload, { qos: 1 }).catch(() => {});
    });
    const isMemory = (e) => e.event === 'storage' && e.persistence === 'memory';
    await until(async () => (await log(page)).some(isMemory), 5_000, 'the storage event');
    const events = await log(page);
    assert.equal(events.find(isMemory).code, 'STORE_QUOTA_EXCEEDED');
    // (Besides CONNECTION_FAILED for each refused attempt to reconnect.)
    const errors = events.filter((e) => e.event === 'error' && e.code.startsWith('STORE_'));
    assert.deepEqual(errors.map((e) => e.code), ['STORE_QUOTA_EXCEEDED']);
    assert.match(errors[0].message, /quota exceeded.*carries on in memory/);
    const metrics = await page.evaluate(() => window.client.metrics());
    assert.equal(metrics.persistence, 'memory');
    assert.equal(metrics.queued, 1, 'the message is kept, not dropped');
    // The stored copy no longer matches the session: it is emptied rather than left stale.
    await until(async () => (await storedEntries(page, name)).length === 0, 5_000, 'the stale store emptied');
    // Still no room: the rewrites (after 1 s, then 2 s more) fail and change nothing.
    await sleep(2_500);
    const recovered = async () => {
      const all = await log(page);
      return all.slice(all.findIndex(isMemory)).some((e) => e.event === 'storage' && e.persistence === 'indexeddb');
    };
    assert.equal(await recovered(), false, 'no room yet');

    await cdp.send('Storage.overrideQuotaForOrigin', { origin: h.server.url }); // room again
    await until(recovered, 15_000, 'the session stored again');
    assert.equal(await page.evaluate(() => window.client.metrics().persistence), 'indexeddb');
    const entries = await storedEntries(page, name);
    assert.deepEqual(entries.map(([key]) => key[0]), ['o', 's'], JSON.stringify(entries));
    assert.equal(entries[1][0], 's/quota/in');
    assert.ok(Number(entries[0][1].slice('bytes:'.length)) > 200_000, entries[0][1]);

    // Durable again: the queued message survives a reload and is delivered once.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    proxy.refuseFor(0);
    await startClient(page, proxy.wsUrl, options);
    await until(() => watcher.seen.length > 0, 10_000, 'the message delivered after the reload');
    await sleep(300);
    assert.deepEqual(watcher.seen, ['200000 bytes']);
    assert.deepEqual((await log(page)).filter((e) => e.event === 'error'), []);
    await page.evaluate(() => window.client.end());
  } finally {
    await user.close();
    await watcher.end();
  }
});

/** Everything a script of the origin can read of the page's storage, as text. */
const everyStorageArea = (page) => page.evaluate(async () => {
  const text = (value) => (value instanceof Uint8Array ? new TextDecoder('latin1').decode(value) : JSON.stringify(value));
  const get = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const found = [];
  for (const { name } of await indexedDB.databases()) {
    found.push(`indexedDB name ${name}`);
    const db = await get(indexedDB.open(name));
    for (const storeName of db.objectStoreNames) {
      const store = db.transaction(storeName).objectStore(storeName);
      const [keys, values] = [await get(store.getAllKeys()), await get(store.getAll())];
      keys.forEach((key, i) => found.push(`indexedDB ${name} ${storeName} ${text(key)} = ${text(values[i])}`));
    }
    db.close();
  }
  for (const [area, storage] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]]) {
    for (let i = 0; i < storage.length; i++) found.push(`${area} ${storage.key(i)} = ${storage.getItem(storage.key(i))}`);
  }
  const locks = await navigator.locks.query();
  for (const lock of [...locks.held, ...locks.pending]) found.push(`lock ${lock.name}`);
  return found;
});

test('no credential of the URL or the options appears in any storage area, the publish journal included (issues #15.3, #17.3)', async () => {
  const context = await h.browser.newContext();
  const page = await h.page({ context });
  const port = new URL(h.broker.wsUrl).port;
  // A token in the path too, as some services give one (wss://host/mqtt/TOKEN).
  const url = `ws://URLUSERx1:URLPASSx1@127.0.0.1:${port}/mqtt/PATHTOKENx1?access_token=TOKENx1`;
  const options = { clientId: 'no-secrets', clean: false, username: 'OPTUSERx1', password: 'OPTPASSx1' };
  await startClient(page, url, options);
  assert.deepEqual((await log(page)).filter((e) => e.event === 'connect').length, 1, 'connected to mosquitto');
  await page.evaluate(async () => {
    await window.client.subscribe('secrets/x', { qos: 1 }, () => {});
    await window.client.publish('secrets/x', 'stored', { qos: 1 });
  });
  // A message waiting in the outbox, its journal entry (read in the task of the call, after
  // the client's end-of-task flush wrote it and before IndexedDB committed it and the entry
  // went), and the tab's hand-over written at page hide.
  const journal = await page.evaluate(async () => {
    window.client.publish('secrets/y', 'queued', { qos: 2 }).catch(() => {});
    await new Promise((resolve) => queueMicrotask(resolve)); // queued after the flush
    const entries = Object.keys(localStorage).filter((key) => key.includes('|journal|'))
      .map((key) => `localStorage ${key} = ${localStorage.getItem(key)}`);
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    return entries;
  });
  assert.ok(journal.some((line) => line.includes('secrets/y')), `the publish was journaled: ${journal.join('\n')}`);
  const found = [...journal, ...await everyStorageArea(page)];
  const name = databaseName(url, options.clientId);
  assert.ok(found.includes(`indexedDB name ${name}`), `the session is stored under ${name}: ${found.join('\n')}`);
  assert.ok(found.some((line) => line.startsWith(`lock ${name}`)), 'the tab lock has the same name');
  assert.ok(found.some((line) => line.includes('s/secrets/x')), `records were written: ${found.join('\n')}`);
  for (const secret of ['URLUSERx1', 'URLPASSx1', 'TOKENx1', 'PATHTOKENx1', 'OPTPASSx1']) {
    const leaks = found.filter((line) => line.includes(secret));
    assert.deepEqual(leaks, [], `${secret} stored`);
  }
  await page.evaluate(() => window.client.end(true));
  await context.close();
});

for (const [what, earlierName] of [
  ['the whole URL (credentials and all)', (url, clientId) => `wasmqtt:${url}:${clientId}`],
  ['the URL with its path written out', (url, clientId) => `wasmqtt:${identity(url).origin}${identity(url).path}:${clientId}`],
]) test(`a session stored under the earlier name from ${what} is moved and the old database deleted`, async () => {
  const context = await h.browser.newContext();
  const page = await h.page({ context });
  const url = `${h.broker.wsUrl}/mqtt/PATHTOKENx2?access_token=OLDTOKENx2`;
  const clientId = 'migrated-1';
  const legacy = earlierName(url, clientId);
  // An unconfirmed QoS 1 subscription, as an earlier version stored it (src/session/store.rs).
  await page.evaluate(async (legacy) => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(legacy, 1);
      request.onupgradeneeded = () => request.result.createObjectStore('records');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const tx = db.transaction('records', 'readwrite');
    tx.objectStore('records').put(new Uint8Array([1, 1]), 's/migrated/x');
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onabort = () => reject(tx.error); });
    db.close();
  }, legacy);
  await startClient(page, url, { clientId, clean: false });
  const names = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.deepEqual(names, [databaseName(url, clientId)], 'only the new database is left');
  assert.ok((await storedEntries(page, names[0])).some(([key]) => key === 's/migrated/x'), 'the record moved');
  // The moved subscription is in force: the session subscribed it again at connect.
  const publisher = mqtt.connect(h.broker.tcpUrl, { protocolVersion: 5 });
  await new Promise((resolve) => publisher.once('connect', resolve));
  const received = page.evaluate(() => new Promise((resolve) => window.client.on('message', (_topic, _payload, m) => resolve(m.text))));
  await until(async () => {
    await publisher.publishAsync('migrated/x', 'after the move', { qos: 1 });
    return Promise.race([received, sleep(200).then(() => null)]);
  }, 5_000, 'a message on the moved subscription');
  assert.equal(await received, 'after the move');
  await publisher.endAsync();
  await page.evaluate(() => window.client.end(true));
  await context.close();
});
