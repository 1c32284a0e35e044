// Writes bench/RESULTS.md and bench/chart.svg from the parts saved in bench/results/.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../lib/serve.mjs';
import { BROKER_SETTINGS, CASES, CLIENTS, LABELS } from './common.mjs';

const load = (part) => {
  const file = path.join(ROOT, 'bench/results', `${part}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
};
const version = (name) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'))).version;
const tryRun = (cmd, args) => {
  let text;
  try { text = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { text = `${e.stdout ?? ''}`; }
  return text.trim().split('\n')[0] || 'unknown';
};
const fmt = (n) => (n == null ? '-' : Math.round(n).toLocaleString('en-US'));
const ratio = (a, b) => (a && b ? a / b : null);
const x = (r) => (r == null ? '-' : `${r.toFixed(2)}x`);
const kib = (n) => (n / 1024).toFixed(1);
const mib = (n) => (n / 1048576).toFixed(2);
const caseName = ({ qos, size }) => `QoS ${qos}, ${size === 4096 ? '4 KiB' : `${size} B`}`;
const verdict = (ok) => (ok == null ? 'not measured' : ok ? '**met**' : '**missed**');

export function writeReport() {
  const throughput = load('throughput');
  const latency = load('latency');
  const native = load('native');
  const size = load('size');
  const memory = load('memory');
  const codec = load('codec');
  const cpu = load('cpu');
  const window = load('window');
  const parts = { throughput, latency, native, size, memory, cpu, codec, window };

  const rate = (client, c) => (client === 'native' ? native : throughput)?.runs
    .find((r) => r.client === client && r.qos === c.qos && r.size === c.size);
  const lines = [];
  const out = (...l) => lines.push(...l);

  out('# wasmqtt benchmarks', '',
    'Re-created by `npm run bench` (scripts/bench.mjs; one part alone: `npm run bench:throughput`, `bench:latency`, `bench:cpu`, `bench:window`, `bench:native`, `bench:size`, `bench:memory`, `bench:codec`). Do not edit by hand.', '',
    '## Machine and versions', '',
    `- Measured: ${((t) => (t.length ? `${t[0]} to ${t[t.length - 1]}` : '-'))([throughput, latency, cpu, native, size, memory].filter(Boolean).map((p) => p.measuredAt).sort())} (the parts finish at these times)`,
    `- CPU (of the machine that wrote this report; a part measured elsewhere names its own): ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores; ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; ${os.type()} ${os.release()}`,
    `- Browser: ${tryRun('/usr/bin/chromium', ['--version'])} (headless, playwright-core ${version('playwright-core')}); Node ${process.version}`,
    `- Broker: ${tryRun('/usr/sbin/mosquitto', ['-h'])}, on 127.0.0.1: the browser clients through the WebSocket bridge to its TCP listener (a few runs on its own WebSocket listener), the native client on TCP`,
    `- Clients: wasmqtt ${JSON.parse(readFileSync(path.join(ROOT, 'package.json'))).version} (this tree, release build), MQTT.js ${version('mqtt')} (dist/mqtt.esm.js, default in-memory store), Paho ${version('paho-mqtt')} (paho-mqtt.js)`,
    '- Protocol: MQTT 5 for wasmqtt, MQTT.js and the native client; MQTT 3.1.1 for Paho (all it speaks).',
    `- Load average (1 min) on the machine as each part started: ${Object.entries(parts).filter(([, p]) => p?.loadAtStart != null).map(([name, p]) => `${name} ${p.loadAtStart.toFixed(2)}`).join(', ') || 'not recorded'}. Other work on the machine slows every client alike but not evenly; ratios within one run are the comparable part.`,
    '',
    '## Broker settings', '',
    'So that the figures measure the clients, mosquitto drops nothing and limits nothing in flight:', '',
    '```', `max_queued_messages ${BROKER_SETTINGS.maxQueuedMessages}`, BROKER_SETTINGS.extraConfig, '```', '',
    `Broker-side drop reports ("Outgoing messages are being dropped" in its log): throughput ${throughput?.brokerDropReports ?? '-'}, latency ${latency?.brokerDropReports ?? '-'}, cpu ${cpu?.brokerDropReports ?? '-'}, native ${native?.brokerDropReports ?? '-'}, memory ${memory?.brokerDropReports ?? '-'}.`,
    '');

  // Throughput.
  out('## End-to-end throughput', '',
    `A publisher page and a subscriber page (same library on both ends) through the broker (${throughput?.transport === 'direct' ? 'its own WebSocket listener' : 'its TCP listener, behind the Node WebSocket bridge scripts/bench/ws-bridge.mjs'}); messages per second from the first publish to the last delivery${throughput?.scale && throughput.scale !== 1 ? ` (message counts scaled by ${throughput.scale})` : ''}; ` +
    `at most ${throughput?.window ?? '-'} publishes not yet completed (QoS 0: written, QoS 1: PUBACK, QoS 2: PUBCOMP)${throughput?.pahoLargeWindow ? ` (Paho at 4 KiB: at most ${throughput.pahoLargeWindow}, as it keeps each unacknowledged message in localStorage and 1000 of 4 KiB overflow the quota)` : ''}; payloads are strings. ${throughput?.repeat > 1 ? `Each case ran ${throughput.repeat} times, the clients taking turns; the table shows the median rate, and the range of the ratios below it. ` : ''}Ratio: to MQTT.js in the same case.`, '');
  const cols = [...CLIENTS, 'native'];
  out(`| case | ${cols.map((c) => LABELS[c]).join(' | ')} | wasmqtt / MQTT.js | wasmqtt (IDB) / MQTT.js | wasmqtt / native |`,
    `| --- | ${cols.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`);
  for (const c of CASES) {
    const cells = cols.map((client) => {
      const r = rate(client, c);
      if (!r) return '-';
      return `${fmt(r.rate)}${r.complete === false ? ` (${r.received}/${r.count})` : ''}`;
    });
    const mem = rate('wasmqtt-memory', c)?.rate;
    const idb = rate('wasmqtt-indexeddb', c)?.rate;
    const mq = rate('mqttjs', c)?.rate;
    const nat = rate('native', c)?.rate;
    out(`| ${caseName(c)} | ${cells.join(' | ')} | ${x(ratio(mem, mq))} | ${x(ratio(idb, mq))} | ${nat && mem ? `${(100 * mem / nat).toFixed(0)}%` : '-'} |`);
  }
  if ((throughput?.repeat ?? 1) > 1) {
    out('', `Every round's rate (msg/s, in the order run), and wasmqtt (memory) / MQTT.js per round:`, '',
      `| case | ${CLIENTS.map((c) => LABELS[c]).join(' | ')} | wasmqtt / MQTT.js per round |`, `| --- | ${CLIENTS.map(() => '---').join(' | ')} | --- |`);
    for (const c of CASES) {
      const rounds = (client) => rate(client, c)?.rates ?? [];
      const mem = rounds('wasmqtt-memory');
      const mq = rounds('mqttjs');
      out(`| ${caseName(c)} | ${CLIENTS.map((client) => rounds(client).map(fmt).join(' / ')).join(' | ')} | ${mem.map((m, i) => x(ratio(m, mq[i]))).join(' / ')} |`);
    }
  }
  const failed = (throughput?.runs ?? []).filter((r) => !r.complete);
  if (failed.length) {
    out('', 'Runs that did not complete (the rate shown counts nothing):', '',
      ...failed.map((r) => `- ${LABELS[r.client]}, ${caseName(r)}: ${r.received}/${r.count} delivered; ${r.error ?? 'timed out'}`));
  }
  if (throughput?.direct?.length) {
    out('', `Through mosquitto's own WebSocket listener instead of the bridge (fewer messages: ${throughput.direct.map((r) => r.count).join(' / ')}):`, '',
      '| case | client | msg/s |', '| --- | --- | ---: |',
      ...throughput.direct.map((r) => `| ${caseName(r)} | ${LABELS[r.client]} | ${fmt(r.rate)}${r.complete ? '' : ` (${r.received}/${r.count})`} |`));
  }
  if (native?.runs?.some((r) => r.cpu)) {
    out('', 'The native client\'s runs: where the CPU went (share of one core over the run, from /proc; mosquitto runs on one thread, so near 100% it is the limit):', '',
      '| case | native msg/s | mosquitto CPU | native client CPU |', '| --- | ---: | ---: | ---: |',
      ...native.runs.filter((r) => r.cpu).map((r) => `| ${caseName(r)} | ${fmt(r.rate)} | ${(100 * r.cpu.broker).toFixed(0)}% | ${(100 * r.cpu.client).toFixed(0)}% |`));
  }
  out('', '![throughput chart](chart.svg)', '');

  // Latency.
  out('## Latency', '');
  if (latency) {
    out(`Publish-to-handler time at ${latency.runs[0]?.rate ?? '-'} msg/s (${latency.runs[0]?.count ?? '-'} messages of ${latency.runs[0]?.size ?? '-'} B; the publisher sends every message that is due on each timer turn), publisher and subscriber on two pages of one browser, milliseconds.`, '',
      '| QoS | client | p50 | p99 | max | received |', '| --- | --- | ---: | ---: | ---: | ---: |');
    for (const r of latency.runs) {
      out(`| ${r.qos} | ${LABELS[r.client]} | ${r.p50?.toFixed(2) ?? '-'} | ${r.p99?.toFixed(2) ?? '-'} | ${r.max?.toFixed(2) ?? '-'} | ${r.received}/${r.count} |`);
    }
  } else out('Not measured yet (`npm run bench:latency`).');
  out('');

  cpuSection(cpu, out);
  windowSection(window, out);

  // Size.
  out('## Bundle size', '');
  if (size) {
    out('What a dashboard downloads (gzip level 9): for wasmqtt, every asset `vite build` emits for a minimal app of `import { connect } from \'wasmqtt\'` (bench/size-results.md, bench/SIZE.md).', '',
      '| what | raw KiB | gzip KiB |', '| --- | ---: | ---: |', ...size.rows.map((r) => `| ${r.name} | ${kib(r.raw)} | ${kib(r.gzip)} |`));
  } else out('Not measured yet (`npm run bench:size`).');
  out('');

  // Memory.
  out('## Memory', '');
  if (memory) {
    out(`One wasmqtt client (persistence: 'memory') sends QoS 0 messages of 100 B to a topic it subscribes to (at most 500 on the way), ${memory.total.toLocaleString('en-US')} in all, in ${memory.seconds.toFixed(0)} s. JS heap after a forced GC (CDP HeapProfiler.collectGarbage, Runtime.getHeapUsage); wasm memory is the module's WebAssembly.Memory buffer byteLength.`, '',
      '| messages | JS heap MiB | wasm memory MiB |', '| ---: | ---: | ---: |',
      ...memory.samples.map((s) => `| ${s.messages.toLocaleString('en-US')} | ${mib(s.jsHeap)} | ${mib(s.wasm)} |`), '',
      `Growth from 10 000 to ${memory.total.toLocaleString('en-US')}: JS heap ${(memory.jsGrowth / 1024).toFixed(0)} KiB, wasm memory ${(memory.wasmGrowth / 1024).toFixed(0)} KiB (bound: ${(memory.bound / 1024).toFixed(0)} KiB each).`);
  } else out('Not measured yet (`npm run bench:memory`).');
  out('');

  // Codec.
  out('## Codec', '');
  out(codec && existsSync(path.join(ROOT, codec.output)) ? `See [CODEC.md](CODEC.md) (${codec.ran}).` : 'The codec benchmark has not run in this tree yet: `npm run bench:codec` writes [CODEC.md](CODEC.md).');
  out('');

  // Targets.
  out('## Targets', '', '| target | measured | verdict |', '| --- | --- | --- |');
  const small = CASES.filter((c) => c.size === 100);
  const eachCase = (fn) => CASES.map((c) => ({ c, v: fn(c) })).filter(({ v }) => v != null);
  const minOf = (list) => (list.length ? Math.min(...list.map(({ v }) => v)) : null);
  const tgt = (name, list, goal, show = x) => {
    const m = minOf(list);
    out(`| ${name} | ${list.map(({ c, v }) => `${caseName(c)}: ${show(v)}`).join('; ') || '-'} | ${verdict(m == null ? null : m >= goal)} |`);
  };
  const vsMq = (client, qosList) => eachCase((c) => (qosList.includes(c.qos) ? ratio(rate(client, c)?.rate, rate('mqttjs', c)?.rate) : null));
  tgt('QoS 0 and 1 throughput >= 2x MQTT.js (wasmqtt, memory)', vsMq('wasmqtt-memory', [0, 1]), 2);
  tgt('QoS 2 throughput >= 5x MQTT.js (wasmqtt, memory)', vsMq('wasmqtt-memory', [2]), 5);
  tgt('IndexedDB QoS 1 and 2 >= MQTT.js in-memory QoS 1 (same payload)', eachCase((c) => (c.qos > 0
    ? ratio(rate('wasmqtt-indexeddb', c)?.rate, rate('mqttjs', { qos: 1, size: c.size })?.rate) : null)), 1);
  if (latency) {
    const p99 = [0, 1, 2].map((qos) => {
      const w = latency.runs.find((r) => r.client === 'wasmqtt-memory' && r.qos === qos);
      const m = latency.runs.find((r) => r.client === 'mqttjs' && r.qos === qos);
      return { qos, w: w?.p99, m: m?.p99 };
    });
    const ok = p99.every(({ w, m }) => w != null && m != null && w <= m);
    out(`| p99 latency <= MQTT.js (wasmqtt, memory) | ${p99.map(({ qos, w, m }) => `QoS ${qos}: ${w?.toFixed(2)} vs ${m?.toFixed(2)} ms`).join('; ')} | ${verdict(ok)} |`);
  } else out('| p99 latency <= MQTT.js | - | not measured |');
  tgt('>= 50% of the native client\'s throughput (wasmqtt, memory)', eachCase((c) => ratio(rate('wasmqtt-memory', c)?.rate, rate('native', c)?.rate)), 0.5,
    (v) => `${(100 * v).toFixed(0)}%`);
  if (size) {
    const total = size.rows.find((r) => r.name === 'wasmqtt total');
    const mq = size.rows.find((r) => r.name.startsWith('MQTT.js'));
    out(`| bundle <= 40 KiB gzipped | ${kib(total.gzip)} KiB (MQTT.js ${kib(mq.gzip)} KiB) | ${verdict(total.gzip <= 40 * 1024)} |`);
  } else out('| bundle <= 40 KiB gzipped | - | not measured |');
  if (memory) {
    out(`| flat memory (growth 10 000 -> ${memory.total.toLocaleString('en-US')} within ${(memory.bound / 1024).toFixed(0)} KiB) | JS heap ${(memory.jsGrowth / 1024).toFixed(0)} KiB, wasm ${(memory.wasmGrowth / 1024).toFixed(0)} KiB | ${verdict(memory.jsGrowth <= memory.bound && memory.wasmGrowth <= memory.bound)} |`);
  } else out('| flat memory | - | not measured |');
  cpuTargets(cpu, out);
  out('');

  // Profiles, from runs apart from the measured ones.
  const profiled = throughput?.profiled ?? [];
  if (profiled.length) {
    out('## Where the time goes (CPU profiles)', '',
      'DevTools CPU profiles (CDP Profiler, 200 us sampling) of both pages, in runs made after the measured ones (the profiler slows a page); functions by self time; wasm functions appear by their index. `(idle)` is time the page waited for work; the busy share is the rest.', '');
    for (const r of profiled) {
      for (const side of ['publisher', 'subscriber']) {
        profileTable(`${LABELS[r.client]}, ${caseName(r)}, ${side} (${fmt(r.rate)} msg/s while profiled`, r.profiles[side], out);
      }
    }
  }
  if (cpu?.profiled?.length) {
    out('## Where the main-thread time goes at a fixed rate (CPU profiles)', '',
      `DevTools CPU profiles (CDP Profiler, 200 us sampling) of the one-page loop of the CPU measurement (${fmt(cpu.rate)} msg/s offered, ${fmt(cpu.measured)} messages), in runs made after the measured ones; functions by self time. \`(program)\` is time in the browser's own code outside JavaScript and wasm (for instance the WebSocket and task dispatch); \`(idle)\` is time the page waited.`, '');
    for (const r of cpu.profiled.filter((p) => p.profile)) {
      const { framesSent: sent, framesReceived: received } = r.profile;
      profileTable(`${LABELS[r.client]}, ${caseName(r)}, publisher and subscriber in one page (${us(r.taskUs)} us task time per message while profiled; WebSocket frames per message: ${sent == null ? '-' : `${(sent / r.delivered).toFixed(2)} sent, ${(received / r.delivered).toFixed(2)} received`}`, r.profile, out);
    }
  }
  const analysis = path.join(ROOT, 'bench/ANALYSIS.md');
  if (existsSync(analysis)) out(readFileSync(analysis, 'utf8').trim(), '');

  writeFileSync(path.join(ROOT, 'bench/RESULTS.md'), lines.join('\n'));
  writeFileSync(path.join(ROOT, 'bench/chart.svg'), chart(rate, native != null));
}

/** One profile's top functions by self time, under `title` (the busy share is appended). */
function profileTable(title, { top, idle, bySource }, out) {
  out(`${title}; busy ${(100 * (1 - idle)).toFixed(0)}%):`, '',
    '| function | self ms | share |', '| --- | ---: | ---: |',
    ...top.map((f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${f.ms} | ${(100 * f.share).toFixed(1)}% |`), '');
  if (bySource) out(`Self time by source: ${bySource.filter((s) => s.share >= 0.001).map((s) => `\`${s.name}\` ${(100 * s.share).toFixed(1)}%`).join(', ')}.`, '');
}

const us = (n) => (n == null ? '-' : n.toFixed(0));
const cpuRun = (cpu, client, c) => cpu?.runs.find((r) => r.client === client && r.qos === c.qos && r.size === c.size);
const CPU_COLUMNS = ['wasmqtt-memory', 'wasmqtt-indexeddb', 'mqttjs'];

/** Main-thread time per message at a fixed offered rate (scripts/bench/cpu.mjs). */
function cpuSection(cpu, out) {
  out('## Main-thread CPU per message', '');
  if (!cpu) {
    out('Not measured yet (`npm run bench:cpu`).', '');
    return;
  }
  const cases = [...new Map(cpu.runs.map((r) => [`${r.qos} ${r.size}`, { qos: r.qos, size: r.size }])).values()];
  out(`One page subscribes to a topic and publishes to it at ${fmt(cpu.rate)} msg/s offered (a 10 ms timer publishes every message that is due), so each message costs its publish and its delivery on one main thread; same broker path for every client (${cpu.transport === 'direct' ? 'mosquitto\'s own WebSocket listener' : 'the WebSocket bridge to mosquitto\'s TCP listener'}). ` +
    `After ${fmt(cpu.warmup)} messages of warm-up, CDP \`Performance.getMetrics\` is read before and after ${fmt(cpu.measured)} more${cpu.scale !== 1 ? ` (message counts scaled by ${cpu.scale})` : ''}; the window ends when every message came back and every publish settled. ` +
    `Cells: TaskDuration / ScriptDuration deltas in microseconds per delivered message (all main-thread tasks / JavaScript and wasm only). ${cpu.repeat > 1 ? `Each case ran ${cpu.repeat} times, the clients taking turns; the median by task time. ` : ''}Ratio: task time to MQTT.js's (in memory) in the same case. ` +
    `A client that offered less than ${(100 * cpu.keptUpShare).toFixed(0)}% of the rate, or did not get every message back within ${cpu.maxDrainSeconds ?? '-'} s of its last publish, did not keep up: marked *, and listed below.` +
    (cpu.baseline ? ` The flows alone (the same loop with no client and no socket: the timer, a promise and a count per message) cost ${us(cpu.baseline.taskUs)} / ${us(cpu.baseline.scriptUs)} us per message, included in every cell.` : '') +
    (cpu.floor?.length ? ' The path\'s floor (last columns): a bare WebSocket that speaks MQTT by hand, building each PUBLISH and answering each acknowledgement of its QoS with no client library, no checks and no store, each task\'s packets sent as one message as wasmqtt does: the browser\'s own work per message (WebSocket frames, events, task dispatch), which every client pays and none can go below; its ratio to MQTT.js\'s figure is the least any client could reach.' : ''), '',
    `| case | ${CPU_COLUMNS.map((c) => `${LABELS[c]} task / script us`).join(' | ')} | wasmqtt / MQTT.js | wasmqtt (IDB) / MQTT.js |${cpu.floor?.length ? ' floor task / script us | floor / MQTT.js |' : ''}`,
    `| --- | ${CPU_COLUMNS.map(() => '---:').join(' | ')} | ---: | ---: |${cpu.floor?.length ? ' ---: | ---: |' : ''}`);
  for (const c of cases) {
    const cells = CPU_COLUMNS.map((client) => {
      const r = cpuRun(cpu, client, c);
      return r ? `${us(r.taskUs)} / ${us(r.scriptUs)}${r.keptUp ? '' : ' *'}` : '-';
    });
    const mq = cpuRun(cpu, 'mqttjs', c)?.taskUs;
    const floor = cpu.floor?.find((f) => f.qos === c.qos && f.size === c.size);
    const floorCells = !cpu.floor?.length ? '' : floor ? ` ${us(floor.taskUs)} / ${us(floor.scriptUs)}${floor.keptUp ? '' : ' *'} | ${x(ratio(floor.taskUs, mq))} |` : ' - | - |';
    out(`| ${caseName(c)} | ${cells.join(' | ')} | ${x(ratio(cpuRun(cpu, 'wasmqtt-memory', c)?.taskUs, mq))} | ${x(ratio(cpuRun(cpu, 'wasmqtt-indexeddb', c)?.taskUs, mq))} |${floorCells}`);
  }
  out('', 'The same runs in CPU time, which a busy machine does not stretch: ThreadTime (the main thread) and ProcessTime (the whole renderer process, every thread), us per delivered message; ratio: main-thread CPU time to MQTT.js\'s:', '',
    `| case | ${CPU_COLUMNS.map((c) => `${LABELS[c]} thread / process us`).join(' | ')} | wasmqtt / MQTT.js | wasmqtt (IDB) / MQTT.js |`,
    `| --- | ${CPU_COLUMNS.map(() => '---:').join(' | ')} | ---: | ---: |`);
  for (const c of cases) {
    const mq = cpuRun(cpu, 'mqttjs', c)?.threadUs;
    out(`| ${caseName(c)} | ${CPU_COLUMNS.map((client) => {
      const r = cpuRun(cpu, client, c);
      return r ? `${us(r.threadUs)} / ${us(r.processUs)}` : '-';
    }).join(' | ')} | ${x(ratio(cpuRun(cpu, 'wasmqtt-memory', c)?.threadUs, mq))} | ${x(ratio(cpuRun(cpu, 'wasmqtt-indexeddb', c)?.threadUs, mq))} |`);
  }
  out('', 'How each client kept up in the median run: messages delivered / offered in the window, the rate it actually offered (msg/s), and the seconds from the last publish until everything came back (* as above: in at least one round it did not keep up):', '',
    `| case | ${CPU_COLUMNS.map((c) => LABELS[c]).join(' | ')} |`, `| --- | ${CPU_COLUMNS.map(() => '---').join(' | ')} |`);
  for (const c of cases) {
    out(`| ${caseName(c)} | ${CPU_COLUMNS.map((client) => {
      const r = cpuRun(cpu, client, c);
      return r ? `${r.delivered}/${r.offered}, ${fmt(r.offeredRate)} msg/s, ${r.drainSeconds?.toFixed(2) ?? '-'} s${r.keptUp ? '' : ' *'}${r.error ? ` (${r.error})` : ''}` : '-';
    }).join(' | ')} |`);
  }
  if (cpu.repeat > 1) {
    out('', 'Every round\'s task time (us per message, in the order run), and the ratios per round:', '',
      `| case | ${CPU_COLUMNS.map((c) => LABELS[c]).join(' | ')} | wasmqtt / MQTT.js | wasmqtt (IDB) / MQTT.js |`, `| --- | ${CPU_COLUMNS.map(() => '---').join(' | ')} | --- | --- |`);
    for (const c of cases) {
      const rounds = (client) => (cpuRun(cpu, client, c)?.rounds ?? []).map((r) => r.taskUs);
      const mq = rounds('mqttjs');
      const per = (client) => rounds(client).map((v, i) => x(ratio(v, mq[i]))).join(' / ');
      out(`| ${caseName(c)} | ${CPU_COLUMNS.map((client) => rounds(client).map(us).join(' / ')).join(' | ')} | ${per('wasmqtt-memory')} | ${per('wasmqtt-indexeddb')} |`);
    }
  }
  const behind = cpu.runs.filter((r) => !r.keptUp);
  const failed = [...cpu.runs, ...cpu.profiled].filter((r) => r.error);
  if (behind.length) {
    out('', 'Did not keep up with the offered rate in at least one round (its figure is per message it did deliver):', '',
      ...behind.map((r) => `- ${LABELS[r.client]}, ${caseName(r)}: ${(r.rounds ?? [r]).map((k) => `${k.delivered}/${r.offered} delivered at ${fmt(k.offeredRate)} msg/s offered, the last ${k.drainSeconds?.toFixed(2) ?? '-'} s after the last publish${k.keptUp ? '' : ' *'}`).join('; ')}`));
  }
  if (failed.length) {
    out('', 'Errors (in the median run or a profiled one):', '', ...failed.map((r) => `- ${LABELS[r.client] ?? r.client}, ${caseName(r)}: ${r.error}`));
  }
  out('');
}

/** The issue's CPU targets, as rows of the Targets table (lower is better). */
function cpuTargets(cpu, out) {
  const row = (name, client, goal) => {
    const list = (cpu?.runs ?? []).filter((r) => r.client === client)
      .map((r) => ({ r, v: ratio(r.taskUs, cpuRun(cpu, 'mqttjs', r)?.taskUs) })).filter(({ v }) => v != null);
    const worst = list.length ? Math.max(...list.map(({ v }) => v)) : null;
    out(`| ${name} | ${list.map(({ r, v }) => `${caseName(r)}: ${x(v)}${r.keptUp ? '' : ' (did not keep up)'}`).join('; ') || '-'} | ${verdict(worst == null ? null : worst <= goal)} |`);
  };
  row('main-thread task time per message <= 1/3 of MQTT.js (wasmqtt, memory)', 'wasmqtt-memory', 1 / 3);
  row('main-thread task time per message <= MQTT.js in memory (wasmqtt, IndexedDB)', 'wasmqtt-indexeddb', 1);
}

/** A grouped bar chart of throughput per case (log scale), as plain SVG. */
function chart(rate, withNative) {
  const series = [...CLIENTS, ...(withNative ? ['native'] : [])];
  const colors = { 'wasmqtt-memory': '#1f77b4', 'wasmqtt-indexeddb': '#7fb3e0', mqttjs: '#d62728', paho: '#ff9f1c', native: '#555555' };
  const W = 900; const H = 420; const left = 70; const bottom = 60; const top = 50; const right = 20;
  const plotH = H - top - bottom; const plotW = W - left - right;
  const values = CASES.flatMap((c) => series.map((s) => rate(s, c)?.rate).filter((v) => v > 0));
  const maxV = Math.max(10, ...values);
  const minLog = 1; const maxLog = Math.ceil(Math.log10(maxV));
  const y = (v) => top + plotH - (plotH * (Math.log10(Math.max(v, 10)) - minLog)) / (maxLog - minLog);
  const group = plotW / CASES.length; const bar = (group * 0.8) / series.length;
  const svg = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">End-to-end throughput, messages/s (log scale)</text>`];
  for (let p = minLog; p <= maxLog; p++) {
    svg.push(`<line x1="${left}" x2="${W - right}" y1="${y(10 ** p)}" y2="${y(10 ** p)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(10 ** p) + 4}" text-anchor="end">${(10 ** p).toLocaleString('en-US')}</text>`);
  }
  CASES.forEach((c, i) => {
    const gx = left + i * group + group * 0.1;
    series.forEach((s, j) => {
      const v = rate(s, c)?.rate;
      if (!v) return;
      const bx = gx + j * bar;
      svg.push(`<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${colors[s]}"><title>${LABELS[s]}: ${Math.round(v)} msg/s</title></rect>`);
    });
    svg.push(`<text x="${left + i * group + group / 2}" y="${top + plotH + 18}" text-anchor="middle">${caseName(c)}</text>`);
  });
  series.forEach((s, j) => {
    const lx = left + j * 160;
    svg.push(`<rect x="${lx}" y="${H - 22}" width="12" height="12" fill="${colors[s]}"/>`, `<text x="${lx + 16}" y="${H - 12}">${LABELS[s]}</text>`);
  });
  svg.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`, '</svg>');
  return svg.join('\n') + '\n';
}

/** The in-flight window over a slowed path (scripts/bench/window.mjs). */
function windowSection(window, out) {
  out('## In-flight window over a slowed path', '');
  if (!window) {
    out('Not measured yet (`npm run bench:window`).', '');
    return;
  }
  const r0 = window.runs[0];
  out(`wasmqtt (memory), ${fmt(r0.count)} QoS 1 publishes of ${r0.size} B at once through a fault proxy limited to ${fmt(r0.rate / 1000)} KB/s each way with ${r0.delayMs} ms delay, in front of mosquitto (Receive Maximum 65535), measured ${window.measuredAt} on ${window.machine ?? 'this machine'} (load ${window.loadAtStart?.toFixed(1)} at start, from other work). A SUBSCRIBE goes out every 200 ms during the burst: its round trip is what anything sharing the connection (PINGREQ, acknowledgements, requests) waits behind the window. Two runs of each, alternated.`, '',
    '| window | msg/s | publish p50 ms | publish p99 ms | SUBSCRIBE p50 ms | SUBSCRIBE p99 ms | SUBSCRIBE max ms | window up to |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of window.runs) {
    out(`| ${r.inflightWindow} | ${r.messagesPerSecond.toFixed(0)} | ${r.publishP50.toFixed(0)} | ${r.publishP99.toFixed(0)} | ${r.controlP50.toFixed(0)} | ${r.controlP99.toFixed(0)} | ${r.controlMax.toFixed(0)} | ${r.windowMax} |`);
  }
  out('');
}
