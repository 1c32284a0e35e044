// The publish journal (issue #17.3, src/client/journal.rs, src/web/journal.rs): QoS 1 and 2
// publish() calls made just before the page goes (location.reload() in the same task, or the
// renderer crashing, CDP Page.crash, once the task ended) are all published once the session
// resumes, against a real mosquitto. IndexedDB commits a task or more after publish() returns;
// the journal is written in localStorage at the end of the task that called it, one entry for
// all of the task's calls, before any other task can run. The control run wipes the journal
// before the next page starts, which is a page without it: the same calls are then lost. A
// follower tab's calls go through the leader's journal (README, "When a publish is safe from a
// reload or a crash").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startHarness } from './lib/harness.mjs';
import { until, sleep } from './lib/wait.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

const N = 40; // per QoS

/**
 * A Node MQTT.js subscriber (MQTT 5, QoS 2) on `topic`: per payload, how many copies came and
 * the distinct wasmqtt message ids they carried (a resent QoS 1 copy carries its original id).
 */
async function observer(topic) {
  const client = mqtt.connect(h.broker.tcpUrl, { protocolVersion: 5 });
  const copies = new Map();
  client.on('message', (_t, payload, packet) => {
    const entry = copies.get(payload.toString()) ?? { count: 0, ids: new Set() };
    entry.count += 1;
    entry.ids.add(packet.properties?.userProperties?.['wasmqtt-id']);
    copies.set(payload.toString(), entry);
  });
  await new Promise((resolve) => client.once('connect', resolve));
  await client.subscribeAsync(topic, { qos: 2 });
  return { copies, end: () => client.endAsync() };
}

/** Starts the client of `clientId` in `page` and waits for its connection. */
const start = (page, clientId) => page.evaluate(async ([url, clientId]) => {
  window.client = new window.wasmqtt.MqttClient(url, { clientId, clean: false, protocolVersion: 5 });
  window.errors = [];
  window.client.on('error', (e) => window.errors.push(e.code));
  await window.client.ready;
}, [h.broker.wsUrl, clientId]);

/**
 * Makes N QoS 1 and N QoS 2 calls on `topic` in one task, counts them in localStorage after each
 * returns, then runs `then`: a reload in the same task, or a spin in a microtask queued after
 * the client's end-of-task flush (the page busy until it crashes) — nothing of them is
 * committed to IndexedDB yet.
 */
function publishThen(page, topic, then) {
  return page.evaluate(([topic, n, then]) => {
    let calls = 0;
    for (let i = 0; i < n; i++) {
      for (const qos of [1, 2]) {
        window.client.publish(topic, `q${qos}-${i}`, { qos }).catch(() => {});
        localStorage.setItem('calls', String(++calls));
      }
    }
    if (then === 'reload') location.reload();
    // The first call queued the client's flush microtask, which writes the task's journal
    // entry; this one runs after it, and IndexedDB answers only in a later task.
    if (then === 'spin') queueMicrotask(() => { for (const end = performance.now() + 3_000; performance.now() < end;); });
    return calls;
  }, [topic, N, then]).catch(() => null); // the page went under the evaluation
}

/** Removes this origin's journal entries (what a page without the journal would find). */
const wipeJournal = (page) => page.evaluate(() => {
  for (const key of Object.keys(localStorage)) if (key.includes('|journal|')) localStorage.removeItem(key);
});

/** Waits for every call counted to arrive, then for strays; returns what is missing and the copies. */
async function outcome(page, watcher) {
  const calls = Number(await page.evaluate(() => localStorage.getItem('calls')));
  const expected = [];
  for (let i = 0; i < N; i++) for (const qos of [1, 2]) expected.push(`q${qos}-${i}`);
  assert.equal(calls, expected.length, 'every call was made and counted');
  await until(() => expected.every((p) => watcher.copies.has(p)), 10_000, 'every call published').catch(() => {});
  await sleep(1_000); // time for a second copy to (wrongly) arrive
  const missing = expected.filter((p) => !watcher.copies.has(p));
  return { missing, copies: watcher.copies };
}

/** Runs one page-going scenario: `go` makes the calls and takes the page down; returns the next page. */
async function scenario(name, go, { journal = true } = {}) {
  const context = await h.browser.newContext();
  const page = await h.page({ context });
  const topic = `journal/${name}`;
  const clientId = `journal-${name}`;
  const watcher = await observer(topic);
  await start(page, clientId);
  await page.evaluate(() => localStorage.removeItem('calls'));
  const next = await go(page, context, topic);
  if (!journal) await wipeJournal(next);
  await start(next, clientId);
  const result = await outcome(next, watcher);
  result.errors = await next.evaluate(() => window.errors);
  await next.evaluate(() => window.client.end());
  await watcher.end();
  await context.close();
  return result;
}

const reloadAtOnce = async (page, _context, topic) => {
  const loaded = page.waitForEvent('load');
  await publishThen(page, topic, 'reload');
  await loaded;
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return page;
};

const crash = async (page, context, topic) => {
  const cdp = await context.newCDPSession(page);
  // The calls are made at once, then the page spins once their task's journal entry is
  // written (IndexedDB commits only in a later task): it crashes meanwhile.
  const calls = publishThen(page, topic, 'spin');
  await sleep(500);
  cdp.send('Page.crash').catch(() => {});
  assert.equal(await calls, null, 'the page crashed under the evaluation');
  return h.page({ context }); // a new page on the same origin
};

function assertAllOnce({ missing, copies, errors }, how) {
  assert.deepEqual(missing, [], `${how}: every call made before is published`);
  assert.deepEqual(errors, [], `${how}: no error`);
  for (const [payload, { count, ids }] of copies) {
    if (payload.startsWith('q2')) assert.equal(count, 1, `${how}: ${payload} exactly once (MQTT-4.3.3)`);
    // QoS 1 is at least once; a resent copy is the same message (its id), which a subscriber
    // with de-duplication drops.
    else assert.equal(ids.size, 1, `${how}: ${payload} one message (copies ${count})`);
  }
}

test('QoS 1/2 calls made just before location.reload() in the same task are all published once', async () => {
  assertAllOnce(await scenario('reload', reloadAtOnce), 'reload');
});

test('QoS 1/2 calls made just before the renderer crashes are all published once by the next page', async () => {
  assertAllOnce(await scenario('crash', crash), 'crash');
});

// The crash loses most of them: the page spins until it, so no IndexedDB transaction commits,
// and only the first in-flight window left on the WebSocket in the flush before the spin (seen:
// 10 of 80 reach the broker). What a reload loses depends on whether the transaction started as
// the page went commits during the unload (seen: 0, 62 and 69 of 80), so it is printed, not
// asserted.
test('control: without the journal most of the same calls are lost to the crash (and some to a reload)', async () => {
  const reload = await scenario('reload-nojournal', reloadAtOnce, { journal: false });
  const crashed = await scenario('crash-nojournal', crash, { journal: false });
  console.log(`without the journal: lost to a reload ${reload.missing.length} of ${2 * N}, to a crash ${crashed.missing.length} of ${2 * N}`);
  assert.ok(crashed.missing.length >= N, 'the crash loses most calls without the journal');
});

/** Two tabs of one origin sharing one session: the leader `a` (started first) and the follower `b`. */
async function tabs(name) {
  const context = await h.browser.newContext();
  const [a, b] = [await h.page({ context }), await h.page({ context })];
  const clientId = `journal-${name}`;
  await start(a, clientId);
  await start(b, clientId);
  assert.equal(await b.evaluate(() => window.client.metrics().persistence), 'indexeddb', 'the follower sees the leader');
  await a.evaluate(() => localStorage.removeItem('calls'));
  return { context, a, b };
}

test("a follower tab's QoS 1/2 calls made just before it reloads in the same task are all published once", async () => {
  const watcher = await observer('journal/follower-reload');
  const { context, a, b } = await tabs('follower-reload');
  const loaded = b.waitForEvent('load');
  await publishThen(b, 'journal/follower-reload', 'reload');
  await loaded;
  const result = await outcome(a, watcher);
  result.errors = await a.evaluate(() => window.errors);
  assertAllOnce(result, 'follower reload');
  await a.evaluate(() => window.client.end());
  await watcher.end();
  await context.close();
});

test("a follower tab's QoS 1/2 calls are all published once when the leader reloads right after them", async () => {
  const watcher = await observer('journal/leader-reload');
  const { context, a, b } = await tabs('leader-reload');
  await publishThen(b, 'journal/leader-reload', 'none');
  const loaded = a.waitForEvent('load');
  await a.evaluate(() => location.reload()).catch(() => {});
  await loaded;
  const result = await outcome(b, watcher);
  result.errors = await b.evaluate(() => window.errors);
  assertAllOnce(result, 'leader reload');
  await b.evaluate(() => window.client.end());
  await watcher.end();
  await context.close();
});

test('a journal entry localStorage refuses (quota) is reported as JOURNAL_FAILED and the publish still goes out', async () => {
  const watcher = await observer('journal/quota');
  const context = await h.browser.newContext();
  const page = await h.page({ context });
  await start(page, 'journal-quota');
  const outcome = await page.evaluate(async () => {
    // The application filled the origin's localStorage.
    const chunk = 'x'.repeat(256 * 1024);
    let i = 0;
    try {
      for (; i < 100; i++) localStorage.setItem(`filler-${i}`, chunk);
    } catch { /* full */ }
    for (let size = 32 * 1024; size >= 1; size >>= 1) {
      try {
        for (;; i++) localStorage.setItem(`filler-${i}`, 'x'.repeat(size));
      } catch { /* full at this size */ }
    }
    const payload = 'q'.repeat(4096);
    const result = await window.client.publish('journal/quota', payload, { qos: 1 }).then(() => 'resolved', (e) => e.code);
    for (const key of Object.keys(localStorage)) if (key.startsWith('filler-')) localStorage.removeItem(key);
    return { result, errors: window.errors };
  });
  assert.equal(outcome.result, 'resolved');
  assert.deepEqual(outcome.errors, ['JOURNAL_FAILED'], 'said so, once');
  await until(() => watcher.copies.size === 1, 5_000, 'published');
  await page.evaluate(() => window.client.end());
  await watcher.end();
  await context.close();
});
