// The client outside a browser: Node 22 (scripts/setup.sh puts it in .cache/node22; Debian's
// Node 20 has no global WebSocket), against a real mosquitto. With no IndexedDB the session is
// kept in memory, and the application is told so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startBroker } from '../../scripts/lib/broker.mjs';
import { ROOT } from '../../scripts/lib/serve.mjs';

const NODE22 = path.join(ROOT, '.cache/node22/bin/node');
const SCRIPT = path.join(ROOT, 'tests/page/fixtures/node-client.mjs');

let broker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker?.dispose(); });

function runInNode(...args) {
  return new Promise((resolve, reject) => {
    execFile(NODE22, [SCRIPT, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').at(-1);
      try {
        resolve({ ...JSON.parse(line), stderr });
      } catch {
        reject(new Error(`no result: ${error?.message ?? ''}\n${stdout}\n${stderr}`));
      }
    });
  });
}

test("Node 22 with persistence 'memory': a QoS 1 round trip through mosquitto", async () => {
  const outcome = await runInNode(broker.wsUrl, 'memory');
  assert.equal(outcome.error, undefined, outcome.error);
  assert.match(outcome.node, /^v22\./);
  assert.equal(outcome.text, 'from node');
  assert.ok(outcome.reasonCode < 0x80);
  assert.equal(outcome.persistence, 'memory');
});

test('Node 22 with the defaults: no IndexedDB, so the session is kept in memory and the application is told (a storage event), the round trip works', async () => {
  const outcome = await runInNode(broker.wsUrl);
  assert.equal(outcome.error, undefined, outcome.error);
  assert.equal(outcome.text, 'from node');
  assert.equal(outcome.persistence, 'memory');
  assert.match(outcome.stderr, /STORE_UNAVAILABLE|IndexedDB is not available/, 'the fallback is said');
});
