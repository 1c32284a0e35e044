// The client in a dedicated Worker (no Window, no document), against a real mosquitto, with
// IndexedDB (which workers have) and in memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

async function inWorker(page, options) {
  return page.evaluate((options) => new Promise((resolve) => {
    const worker = new Worker('/tests/page/fixtures/worker.js', { type: 'module' });
    worker.onmessage = ({ data }) => { worker.terminate(); resolve(data); };
    worker.onerror = (e) => resolve({ error: `worker error: ${e.message}` });
    worker.postMessage(options);
  }), options);
}

for (const persistence of ['indexeddb', 'memory']) {
  test(`in a dedicated Worker (${persistence}): connect, subscribe, a QoS 1 round trip, end`, { timeout: 60_000 }, async () => {
    const page = await h.page();
    const outcome = await inWorker(page, { url: h.broker.wsUrl, persistence, clientId: `worker-${persistence}` });
    assert.equal(outcome.error, undefined, outcome.error);
    assert.equal(outcome.hasWindow, false, 'no Window in the worker');
    assert.equal(outcome.text, 'from a worker');
    assert.ok(outcome.reasonCode < 0x80);
    assert.equal(outcome.persistence, persistence, 'IndexedDB is used where the worker has it');
  });
}
