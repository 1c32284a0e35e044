// The demo dashboard: live charts of the simulator's telemetry, device states from retained and
// will messages, the client's state and metrics, and buttons that break the link so a visitor
// can watch nothing being lost. Served by `npm start` (scripts/lib/demo.mjs).
import { load, MqttClient } from '../pkg/index.js';
import uPlot from '../node_modules/uplot/dist/uPlot.esm.js';

const WINDOW_S = 120;
const COLORS = ['#1a73e8', '#d93025', '#188038', '#e37400', '#9334e6', '#00838f'];
const UNITS = { temperature: '°C', humidity: '%', co2: 'ppm' };
const $ = (id) => document.getElementById(id);

const config = await (await fetch('/config.json')).json();
const devices = config.devices ?? [];
$('broker').textContent = config.brokerUrl;

// --- connection state ---------------------------------------------------------------------
function showState(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

await load();
const client = new MqttClient(config.brokerUrl, {
  clientId: 'wasmqtt-dashboard',
  clean: false, // the session (and what arrives while the page is away) survives reloads
  keepalive: 20,
  reconnect: { minDelay: 250, maxDelay: 5_000 },
});
let attempts = 0;
client.on('connect', ({ sessionPresent }) => {
  showState('connected', 'connected');
  $('session').textContent = sessionPresent ? 'session resumed' : 'new session';
});
client.on('close', ({ reason }) => showState('reconnecting', `disconnected (${reason}), reconnecting…`));
client.on('reconnect', ({ attempt, delayMs }) => {
  attempts += 1;
  $('attempts').textContent = String(attempts);
  showState('reconnecting', `retry ${attempt} in ${Math.round(delayMs)} ms`);
});
client.on('offline', () => showState('offline', 'browser offline, waiting'));
client.on('error', (error) => {
  if (error.fatal) showState('error', `error: ${error.message}`);
});
client.on('storage', ({ persistence, error }) => {
  if (error) console.warn('wasmqtt storage:', persistence, error);
});

// --- charts -----------------------------------------------------------------------------------
const charts = new Map(); // metric -> { plot, names, xs, ys, dirty }
for (const metric of [...new Set(devices.flatMap((d) => d.metrics))]) {
  const names = devices.filter((d) => d.metrics.includes(metric)).map((d) => d.device);
  const box = document.createElement('div');
  box.className = 'chart';
  box.dataset.metric = metric;
  box.innerHTML = `<h3>${metric} (${UNITS[metric] ?? ''})</h3>`;
  $('charts').append(box);
  const plot = new uPlot({
    width: Math.max(320, $('charts').clientWidth),
    height: 200,
    series: [{}, ...names.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }))],
    axes: [{}, { size: 60 }],
    scales: { x: { time: true } },
  }, [[], ...names.map(() => [])], box);
  charts.set(metric, { plot, names, xs: [], ys: names.map(() => []), dirty: false });
}
window.addEventListener('resize', () => {
  for (const { plot } of charts.values()) plot.setSize({ width: Math.max(320, $('charts').clientWidth), height: 200 });
});

/** Inserts a point in time order (messages replayed after a cut arrive late, not lost). */
function addPoint(metric, device, t, v) {
  const chart = charts.get(metric);
  const series = chart?.names.indexOf(device) ?? -1;
  if (series < 0) return;
  const x = t / 1000;
  let at = chart.xs.length;
  while (at > 0 && chart.xs[at - 1] > x) at -= 1;
  chart.xs.splice(at, 0, x);
  chart.ys.forEach((ys, i) => ys.splice(at, 0, i === series ? v : null));
  const oldest = chart.xs.findIndex((value) => value >= chart.xs[chart.xs.length - 1] - WINDOW_S);
  if (oldest > 0) {
    chart.xs.splice(0, oldest);
    for (const ys of chart.ys) ys.splice(0, oldest);
  }
  chart.dirty = true;
}

function draw() {
  for (const chart of charts.values()) {
    if (!chart.dirty) continue;
    chart.dirty = false;
    chart.plot.setData([chart.xs, ...chart.ys]);
    chart.plot.root.parentElement.dataset.points = String(chart.xs.length);
  }
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);

// --- sequence audit: every series counts 1, 2, 3...; a gap is a lost message, a repeat a duplicate
const AUDIT_KEY = 'wasmqtt-dashboard-audit';
const audit = JSON.parse(sessionStorage.getItem(AUDIT_KEY) ?? '{"last":{},"gaps":0,"repeats":0}');
function checkSequence(topic, seq, run) {
  const last = audit.last[topic];
  if (last && last.run === run) {
    if (seq <= last.seq) audit.repeats += 1;
    else audit.gaps += seq - last.seq - 1;
  }
  if (!last || last.run !== run || seq > last.seq) audit.last[topic] = { run, seq };
  sessionStorage.setItem(AUDIT_KEY, JSON.stringify(audit));
  $('gaps').textContent = String(audit.gaps);
  $('repeats').textContent = String(audit.repeats);
}

// --- devices --------------------------------------------------------------------------------------
const deviceRows = new Map();
for (const { room, device } of devices) {
  const row = document.createElement('li');
  row.dataset.device = device;
  row.dataset.status = 'unknown';
  row.innerHTML = `<span>${room} / ${device}</span><span class="state">unknown</span>`;
  $('devices').append(row);
  deviceRows.set(device, row);
  $('command').elements.device.append(new Option(device, device));
}
function showDevice(device, status) {
  const row = deviceRows.get(device);
  if (!row) return;
  row.dataset.status = status;
  row.querySelector('.state').textContent = status;
}

// --- commands ---------------------------------------------------------------------------------
const commands = new Map(); // payload -> log entry
let commandCount = 0;
function logCommand(text, state) {
  const entry = document.createElement('li');
  entry.dataset.state = state;
  entry.textContent = text;
  $('log').prepend(entry);
  return entry;
}
$('command').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target.elements;
  const qos = Number(form.qos.value);
  commandCount += 1;
  const payload = `${form.text.value}#${Date.now().toString(36)}${commandCount}`;
  const entry = logCommand(`${payload} → ${form.device.value} (QoS ${qos}): sending`, 'pending');
  commands.set(payload, entry);
  try {
    await client.publish(`commands/${form.device.value}`, payload, { qos });
    if (entry.dataset.state === 'pending') {
      entry.dataset.state = 'acked';
      entry.textContent = entry.textContent.replace(/: .*$/, qos === 0 ? ': sent' : ': acknowledged by the broker');
    }
  } catch (error) {
    entry.dataset.state = 'failed';
    entry.textContent = entry.textContent.replace(/: .*$/, `: failed (${error.code ?? error.message})`);
  }
});

// --- messages ---------------------------------------------------------------------------------------
function onMessage(message) {
  const [, , device, kind] = message.topic.split('/');
  if (kind === 'status') return showDevice(device, message.text);
  const body = JSON.parse(message.text);
  if (kind === 'reply') {
    const entry = commands.get(body.command);
    if (entry) {
      entry.dataset.state = 'replied';
      entry.textContent = entry.textContent.replace(/: .*$/, `: done, device replied (received at QoS ${body.qos})`);
    }
    return;
  }
  if (deviceRows.get(device)?.dataset.status !== 'offline') showDevice(device, 'online');
  checkSequence(message.topic, body.seq, body.run);
  addPoint(kind, device, body.t, body.v);
}

// --- metrics panel --------------------------------------------------------------------------------
const METRIC_LABELS = {
  inflight: 'in flight',
  queued: 'queued',
  sent: 'sent',
  received: 'received',
  messagesPerSecond: 'messages / s',
  rttMs: 'ping round trip (ms)',
  duplicatesDropped: 'duplicates dropped',
  reconnects: 'reconnects',
};
function showMetrics() {
  const metrics = client.metrics();
  $('metrics').replaceChildren(...Object.entries(METRIC_LABELS).flatMap(([key, label]) => {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.dataset.metric = key;
    const value = metrics[key];
    dd.textContent = value === undefined ? '–' : String(Number.isInteger(value) ? value : value.toFixed(1));
    return [dt, dd];
  }));
}
setInterval(showMetrics, 500);
showMetrics();

// --- fault controls -------------------------------------------------------------------------------
for (const button of document.querySelectorAll('button[data-control]')) {
  const path = button.dataset.control;
  button.hidden = !(config.controls ?? []).includes(path);
  button.addEventListener('click', () => fetch(path, { method: 'POST' }));
}
$('reload').addEventListener('click', () => location.reload());

window.dashboard = { client, audit };
// Routes before the SUBACK, so retained statuses find their handler; resolves with the SUBACK,
// which waits for the connection.
await client.subscribe([{ topic: 'sensors/#', qos: 1 }], onMessage).catch((error) => {
  showState('error', `subscribe failed: ${error.message}`);
});
