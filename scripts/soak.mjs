// `npm run soak`: the fault suite (scripts/lib/fault-suite.mjs) at soak size: every scenario with
// wasmqtt and MQTT.js side by side, 11 200 messages per QoS and scenario and client (over
// 100 000 per QoS in all). Writes bench/SOAK.md; exits non-zero if wasmqtt lost or duplicated
// what it must not. `node scripts/soak.mjs quick` runs the quick size instead (no file written
// unless SOAK_OUT is set); a list of scenario names after it runs only those.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/serve.mjs';
import {
  SCENARIOS, SIZES, startFaultEnvironment, runScenario, violations, markdownTable, totalsTable,
} from './lib/fault-suite.mjs';

const [sizeName = 'soak', ...only] = process.argv.slice(2);
if (!SIZES[sizeName]) throw new Error(`unknown size ${sizeName}: ${Object.keys(SIZES).join(', ')}`);
const names = only.length ? only : Object.keys(SCENARIOS);
const out = process.env.SOAK_OUT || (sizeName === 'soak' ? path.join(ROOT, 'bench/SOAK.md') : null);
const resultsFile = out && `${out.replace(/\.md$/, '')}-results.json`;
/**
 * SOAK_REPLACE=<why>: run only the scenarios named, and write the report from the last run's
 * results with theirs replaced (the report says which were run again, when, and why).
 */
const replacing = process.env.SOAK_REPLACE && out && only.length ? {
  why: process.env.SOAK_REPLACE,
  kept: JSON.parse(readFileSync(resultsFile, 'utf8')).filter((r) => !only.includes(r.scenario)),
  header: readFileSync(out, 'utf8').match(/^- Date: (.*)$/m)?.[1] ?? 'unknown',
  loads: readFileSync(out, 'utf8').match(/load average \(1 min\) as each scenario started: ([^(]*) \(/)?.[1]?.trim(),
} : null;

const started = new Date();
const env = await startFaultEnvironment();
const results = [];
const errors = [];
/** The 1-minute load average as each scenario started (the soak's own pages and broker count). */
const loads = [];
try {
  for (const name of names) {
    loads.push(os.loadavg()[0]);
    console.log(`[soak] ${name}: ${SCENARIOS[name].what}`);
    try {
      results.push(...await runScenario(env, name, ['wasmqtt', 'mqttjs'], sizeName, { log: (line) => console.log(`[soak] ${line}`) }));
      // The figures so far, in case the run is cut short.
      if (out) writeFileSync(resultsFile, JSON.stringify([...(replacing?.kept ?? []), ...results].map(({ timeline, ...r }) => r)));
    } catch (error) {
      // Reported, and the soak goes on with the next scenario.
      console.log(`[soak] ${name}: did not complete: ${error.message}`);
      errors.push(`${name}: did not complete: ${error.message}`);
    }
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  if (replacing) {
    const order = Object.keys(SCENARIOS);
    results.splice(0, results.length, ...[...replacing.kept, ...results]
      .sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario)));
  }
  const brokerConfigs = {
    main: await env.target(false),
    limited: results.some((r) => SCENARIOS[r.scenario]?.limited) ? await env.target(true) : null,
  };
  const problems = [...errors, ...results.filter((r) => r.lib === 'wasmqtt').flatMap(violations)];
  if (out) writeFileSync(out, report({ results, seconds, problems, brokerConfigs, browserVersion: env.browser.version() }));
  console.log(`\n${markdownTable(results)}\n\n${totalsTable(results)}\n`);
  console.log(problems.length ? `wasmqtt violations:\n${problems.join('\n')}` : 'wasmqtt: no loss it could prevent, no duplicate');
  if (out) console.log(`written to ${path.relative(ROOT, out)} (${seconds.toFixed(0)} s)`);
  process.exitCode = problems.length ? 1 : 0;
} finally {
  await env.close();
}

function version(name) {
  return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'))).version;
}

function brokerSettings(target) {
  // The generated mosquitto.conf, less what differs per run (ports, folders, logging).
  return readFileSync(target.broker.configPath, 'utf8').split('\n')
    .filter((line) => line && !/^(listener|protocol|persistence_location|log_|connection_messages|user |per_listener|allow_anonymous)/.test(line))
    .join('\n');
}

function loadRange() {
  return loads.length ? `${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}` : '-';
}

function report({ results, seconds, problems, brokerConfigs, browserVersion }) {
  // `mosquitto -h` prints its version and exits with status 3.
  const mosquitto = (spawnSync('/usr/sbin/mosquitto', ['-h']).stdout || '').toString().split('\n')[0].trim() || 'mosquitto';
  const commit = (() => {
    try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim(); } catch { return 'unknown'; }
  })();
  const wasmqttVersion = JSON.parse(readFileSync(path.join(ROOT, 'package.json'))).version;
  const size = SIZES[sizeName];
  return `# Fault soak: wasmqtt and MQTT.js under faults

Written by \`npm run soak\` (scripts/soak.mjs, scenarios in scripts/lib/fault-suite.mjs; the quick
size runs in \`npm test\` as tests/page/fault-suite.test.mjs).

- Date: ${replacing ? replacing.header : `${started.toISOString()} (${(seconds / 60).toFixed(1)} min)`}${replacing ? `
- Run again alone, and in the tables from that run: ${only.map((n) => `\`${n}\``).join(', ')}, at ${started.toISOString()} (${(seconds / 60).toFixed(1)} min), because ${replacing.why}` : ''}
- Machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; load average (1 min) as each scenario started: ${replacing ? `${replacing.loads ?? 'not recorded'} (the run again: ${loadRange()})` : loadRange()} (the soak's own pages, broker and Node included)
- Versions: wasmqtt ${wasmqttVersion} (${commit}), MQTT.js ${version('mqtt')} (dist/mqtt.esm.js), ${mosquitto}, Chromium ${browserVersion} (headless, playwright-core ${version('playwright-core')}), Node ${process.version}
- Size: ${size.perStream} messages per QoS, scenario and client, published at ${size.rate} messages/s over the three QoS
  (bursts in \`burst\` and \`queue-limit\`); two subscribers per client.

## Set-up

Per scenario, each client library gets one publisher page and two subscriber pages, each in its
own browser context (own IndexedDB), all connecting through a fault-injecting TCP proxy on
loopback to one mosquitto WebSocket listener. wasmqtt and MQTT.js run side by side on their own
topics, so both get the same faults at the same moments. Both use MQTT 5, a fixed client id,
\`clean: false\` with a session expiry of one hour, keepalive 2 s, connect timeout ${size.connectTimeoutMs / 1000} s (see Notes) and a
reconnect delay of about 250 ms; wasmqtt keeps its session in IndexedDB and de-duplicates by
message id (its default). The publisher publishes three streams (QoS 0, 1 and 2) with a
sequence number in each payload; the subscribers subscribe to all three at QoS 2 and report what
their application handler got. Publishing starts once every subscriber's subscribe() has
resolved, that is, once the broker's SUBACK came.

- **published**: publish Promises that resolved (acknowledged), plus, for a publisher page
  reloaded mid-stream, the messages found in wasmqtt's IndexedDB store for the session when the
  page came back (durable, their Promise gone with the page; wasmqtt sends them after the reload).
  Publish calls whose outcome the page never saw and that were not durable are in doubt: not
  counted either way. MQTT.js keeps nothing across a reload.
- **failed / unsettled**: publish Promises that rejected / that had not settled when the run
  ended. After the last publish call the run drains, per client, until everything published
  has been settled and delivered, or nothing has arrived for ${size.quietMs / 1000} s; at most ${size.drainMs / 1000} s.
- **received / expected**: distinct messages the subscribers' handlers got / published x 2.
- **lost**: published messages a subscriber's handler never got (summed over subscribers).
- **of which by the broker**: lost with mosquitto's unsaved state at a SIGKILL (missing at every
  subscriber, and published or acknowledged in the 2 s before the kill, or acknowledged up to
  5 s after mosquitto came back, or, at QoS 2, found PUBREC'd in a reloaded publisher's store
  up to 5 s before the kill: mosquitto had acknowledged them and died before saving them; it
  even answers PUBCOMP to a PUBREL for a message it no longer has, so no client can tell), or,
  where mosquitto logged "Outgoing messages are being dropped", every other loss of that
  scenario (queue-limit), shown as "(N dropped)"; the totals add both.
- **duplicated**: handler calls beyond the first for the same message.
- **reordered**: messages received after a later one of the same stream (MQTT keeps order per
  topic and QoS within a session only; reported, not required).
- **recovery**: from the end of a fault to the first progress of every client after it (at the
  publisher an acknowledgement, of a publish call or, for wasmqtt after a reload, of a message
  restored from its store: new calls wait behind those; a delivery at each subscriber); faults
  come faster than recovery in \`cuts\` and \`mixed\`, so there it includes later faults.

Required of wasmqtt (and checked the same way by the quick suite in \`npm test\`): at QoS 1 (with
de-duplication) and QoS 2, no loss other than the broker's and no duplicate; at QoS 0 no
duplicate (losses are reported).

## Scenarios

${[...new Set(results.map((r) => r.scenario))].map((n) => `- \`${n}\`: ${SCENARIOS[n].what}`).join('\n')}

## Results

${markdownTable(results)}

### Totals per client and QoS

${totalsTable(results)}

${problems.length ? `**wasmqtt violations:**\n\n${problems.map((p) => `- ${p}`).join('\n')}` : '**wasmqtt: no loss it could have prevented, no duplicate, at any QoS.**'}

## Broker settings

The scenarios run against mosquitto configured as below (besides listeners and logging). No
queue limits (\`max_queued_messages 0\`, \`max_queued_bytes 0\`) is what keeps mosquitto from
dropping messages for a subscriber that falls behind or is away; \`autosave_on_changes true\`
with \`autosave_interval 1\` makes it save its state as often as it can (mosquitto 2.0 has no
write-ahead log: whatever it acknowledged after its last save is gone after a SIGKILL).

\`\`\`
${brokerSettings(brokerConfigs.main)}
\`\`\`
${brokerConfigs.limited ? `
\`queue-limit\` runs against a second mosquitto with a queue limit, to show the drop being
reported:

\`\`\`
${brokerSettings(brokerConfigs.limited)}
\`\`\`
` : ''}
## Notes

- Offline emulation (Playwright's \`context.setOffline\`, DevTools network conditions) in
  Chromium ${browserVersion.split('.')[0]} does not close an open WebSocket: its frames are held until the
  page is online again, \`navigator.onLine\` turns false and \`offline\` fires; new connections
  fail at once. wasmqtt keeps a live connection through it (keepalive decides) and does not
  attempt new ones until \`online\`.
- MQTT.js's figures are reported, not required; in \`npm test\` they gate nothing.
- Rate and drain: wasmqtt's publisher settles about 150 to 220 messages a second here under
  faults (each QoS 1/2 message waits for its IndexedDB commit and for a slot in mosquitto's
  window of 20, on 2 shared cores running twelve pages). An earlier run published at 300/s and
  drained for at most 60 s: the backlog was still arriving when it ended, and acknowledged
  messages in transit were counted as lost. Hence ${size.rate}/s and a drain that runs until everything
  has arrived (the time limit is a guard; a run that hits it is marked "still arriving").
- Connect timeout: Chromium's network service delays a renderer's new WebSockets by up to 5 s
  once many of them failed (services/network/websocket_throttler.cc), and an attempt given up
  before its handshake counts as another failure. In an earlier run with a 2 s connect timeout
  neither client connected through the whole \`cuts\` storm (mosquitto logged only connections
  closed before their CONNECT); the soak's timeout is longer than that delay.
- Reports survive a page reload: each page keeps its reports in sessionStorage until Node has
  them and a reloaded page sends the rest again (Playwright drops a call from a page whose
  context a reload has destroyed). Without that, a reload lost the reports of messages that had
  been delivered (and acknowledged to the broker), and a reloaded publisher reused sequence
  numbers. Events "reports-resent-after-reload" in SOAK-results.json count the batches saved.
- What is acknowledged within a run is bounded by the fault density and by mosquitto's default
  in-flight window of 20 messages per client (its Receive Maximum; wasmqtt keeps to it, and a
  QoS 1/2 message of wasmqtt's also waits for its IndexedDB commit) on a shared 2-core machine
  running six to twelve pages. What is still unsettled when a run ends is neither lost nor
  delivered: wasmqtt holds it in its queue (in IndexedDB) and sends it on.
`;
}
