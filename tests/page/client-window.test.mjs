// The adaptive in-flight window as an application sets and reads it, against a real mosquitto.
// The rule is host-tested (src/session/window.rs, tests/session_window.rs); its effect over a
// slow path is measured by `npm run bench:window`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

test("inflightWindow 'adaptive' starts at 16, grows to its cap on a fast path, and every publish resolves once", async () => {
  const page = await h.page();
  const outcome = await page.evaluate(async (url) => {
    const client = await window.wasmqtt.connect(url, { persistence: 'memory', inflightWindow: 'adaptive' });
    const start = client.metrics().window;
    const results = await Promise.all(Array.from({ length: 2000 }, (_, i) => client.publish('window/a', String(i), { qos: 1 })));
    const grown = client.metrics().window;
    await client.end();
    // 0x10 (no matching subscribers) is a success too.
    return { start, grown, ok: results.filter((r) => r.reasonCode < 0x80).length };
  }, h.broker.wsUrl);
  assert.equal(outcome.start, 16);
  assert.equal(outcome.ok, 2000);
  // mosquitto's default Receive Maximum (max_inflight_messages) is 20: the cap.
  assert.equal(outcome.grown, 20, 'the window grew to the cap');
});

test("the fixed window is the cap: min(maxInflight, the broker's Receive Maximum); a wrong value is refused", async () => {
  const page = await h.page();
  const outcome = await page.evaluate(async (url) => {
    const client = await window.wasmqtt.connect(url, { persistence: 'memory', maxInflight: 7 });
    const fixed = client.metrics().window;
    await client.end();
    const refused = await window.wasmqtt.connect(url, { persistence: 'memory', inflightWindow: 'auto' }).then(() => null, (e) => e.code);
    return { fixed, refused };
  }, h.broker.wsUrl);
  assert.equal(outcome.fixed, 7);
  assert.equal(outcome.refused, 'INVALID_ARGUMENT');
});
