// The end-to-end fault suite, quick size (scripts/lib/fault-suite.mjs; `npm run soak` is the
// long one): per scenario, a wasmqtt publisher and two wasmqtt subscribers in their own browser
// contexts, then the same with MQTT.js, against one mosquitto behind the fault proxy. wasmqtt
// must lose nothing at QoS 1 (de-duplication on) and QoS 2, and duplicate nothing at any QoS;
// MQTT.js's figures are printed beside them and gate nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  SCENARIOS, startFaultEnvironment, runScenario, violations, markdownTable, totalsTable,
} from '../../scripts/lib/fault-suite.mjs';

let env;
const results = [];
const started = Date.now();
before(async () => { env = await startFaultEnvironment(); });
after(async () => {
  await env?.close();
  console.log(`\nFault suite (quick), ${((Date.now() - started) / 1000).toFixed(0)} s:\n${markdownTable(results)}\n\n${totalsTable(results)}\n`);
});

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  test(`under faults (${name}: ${scenario.what}), wasmqtt loses nothing at QoS 1 and 2 and duplicates nothing`, { timeout: 150_000 }, async () => {
    const run = await runScenario(env, name, ['wasmqtt', 'mqttjs'], 'quick', { log: console.log });
    results.push(...run);
    const ours = run.find((r) => r.lib === 'wasmqtt');
    // The scenario really ran: messages flowed and the faults happened.
    for (const p of ours.perQos.filter((q) => q.qos > 0)) {
      assert.ok(p.published > 0 && p.received > 0, `${name} QoS ${p.qos}: nothing flowed`);
    }
    if (name !== 'burst' && name !== 'queue-limit') {
      assert.ok(Object.keys(ours.faults).length > 0, `${name}: no fault was injected`);
    }
    if (name === 'queue-limit') {
      // QoS 0 may be lost anywhere (a held link, a cut); a QoS 1 or 2 loss here must be mosquitto
      // dropping from its queue, and it must say so in its log.
      const reliableLost = ours.perQos.filter((p) => p.qos > 0).some((p) => p.lost > 0);
      assert.ok(!reliableLost || ours.brokerDrops > 0, 'a QoS 1 / 2 loss here is mosquitto dropping, and it says so');
    }
    if (name === 'publisher-reload' || name === 'mixed') {
      // Issue #17.3: every QoS 1/2 call made before a reload is published (acknowledged, or in
      // the store or the journal when the page went); a refused call said so with an error.
      for (const p of ours.perQos.filter((q) => q.qos > 0)) {
        assert.equal(p.attempted, p.published + p.failed, `${name} QoS ${p.qos}: calls = published + refused`);
      }
    }
    assert.deepEqual(violations(ours), []);
  });
}
