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
      assert.ok(ours.brokerDrops > 0 || ours.perQos.every((p) => p.lost === 0), 'a loss here is mosquitto dropping, and it says so');
    }
    assert.deepEqual(violations(ours), []);
  });
}
