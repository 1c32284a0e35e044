// The demo dashboard: live charts of the simulator's telemetry, device states from retained and
// will messages, the client's state and metrics, and buttons that break the link so a visitor
// can watch nothing being lost. Served by `npm start` (scripts/lib/demo.mjs).
import { load, MqttClient } from '../pkg/index.js';
import { clock, createChart, WINDOW_S } from './chart.js';
import { keep, restore } from './keep.js';

const COLORS = ['#1a73e8', '#d93025', '#188038', '#e37400', '#9334e6', '#00838f'];
const TITLES = { temperature: 'Temperature', humidity: 'Humidity', co2: 'CO₂' };
const UNITS = { temperature: '°C', humidity: '%', co2: 'ppm' };
const DIGITS = { temperature: 1, humidity: 1, co2: 0 };
const KEEPALIVE_S = 10;
const ALERT_LAG_MS = 5_000; // the client's default, the seed's consumer delay
const $ = (id) => document.getElementById(id);

const config = await (await fetch('/config.json')).json();
const devices = config.devices ?? [];
$('broker').textContent = config.brokerUrl;

$('window').textContent = `last ${WINDOW_S / 60} minutes · shaded: page disconnected`;
const saved = restore();
const page = {
  attempts: saved.attempts ?? 0,
  outages: saved.outages ?? [], // [{ from, to? }] in ms: when this tab had no connection
  latest: saved.latest ?? {}, // device -> metric -> value
  log: saved.log ?? [], // commands, newest first: { payload, time, text, state }
};
// The reload itself is a disconnection: from the moment the previous page went away.
if (saved.awaySince && !page.outages.some((o) => o.to === undefined)) page.outages.push({ from: saved.awaySince });
const openOutage = () => page.outages.find((o) => o.to === undefined);

// --- charts -----------------------------------------------------------------------------------
const charts = new Map();
for (const metric of [...new Set(devices.flatMap((d) => d.metrics))]) {
  const names = devices.filter((d) => d.metrics.includes(metric)).map((d) => d.device);
  charts.set(metric, createChart($('charts'), {
    metric,
    title: TITLES[metric] ?? metric,
    unit: UNITS[metric] ?? '',
    digits: DIGITS[metric] ?? 1,
    names,
    colors: names.map((_, i) => COLORS[i % COLORS.length]),
    outages: () => page.outages,
    saved: saved.charts?.[metric],
  }));
}
let lastScroll = 0;
function draw(now) {
  const scroll = now - lastScroll > 1000; // the window moves on even when nothing arrives
  if (scroll) lastScroll = now;
  for (const chart of charts.values()) chart.draw(scroll);
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);

keep(() => ({
  ...page,
  outages: page.outages.filter((o) => (o.to ?? Date.now()) > Date.now() - 600_000),
  charts: Object.fromEntries([...charts].map(([metric, chart]) => [metric, chart.toJSON()])),
  awaySince: openOutage()?.from ?? Date.now(),
}));

// --- connection state ---------------------------------------------------------------------------
function showState(state, text) {
  if ((state === 'connected') !== ($('status').dataset.state === 'connected')) $('since').textContent = `since ${clock(Date.now())}`;
  $('status').dataset.state = state;
  $('status').textContent = text;
}
$('attempts').textContent = String(page.attempts);

await load();
const client = new MqttClient(config.brokerUrl, {
  clientId: 'wasmqtt-dashboard',
  clean: false, // the session (and what arrives while the page is away) survives reloads
  keepalive: KEEPALIVE_S,
  reconnect: { minDelay: 250, maxDelay: 5_000 },
});
let connections = 0;
client.on('connect', ({ sessionPresent }) => {
  connections += 1;
  const outage = openOutage();
  if (outage) outage.to = Date.now();
  showState('connected', 'connected');
  $('session').textContent = sessionPresent ? 'session resumed' : 'new session';
});
client.on('close', ({ reason }) => {
  if (!openOutage()) page.outages.push({ from: Date.now() });
  showState('reconnecting', `disconnected (${reason})`);
});
client.on('reconnect', ({ attempt, delayMs }) => {
  page.attempts += 1;
  $('attempts').textContent = String(page.attempts);
  showState('reconnecting', `reconnecting, try ${attempt} in ${(delayMs / 1000).toFixed(1)} s`);
});
client.on('offline', () => showState('offline', 'browser offline, waiting'));
client.on('error', (error) => {
  if (error.fatal) showState('error', `error: ${error.message}`);
});
client.on('storage', ({ persistence, error }) => {
  if (error) console.warn('wasmqtt storage:', persistence, error);
});

// --- sequence audit: every series counts 1, 2, 3...; a gap is a lost message, a repeat a duplicate
const AUDIT_KEY = 'wasmqtt-dashboard-audit';
const audit = JSON.parse(sessionStorage.getItem(AUDIT_KEY) ?? '{"last":{},"gaps":0,"repeats":0}');
function showAudit() {
  $('gaps').textContent = String(audit.gaps);
  $('repeats').textContent = String(audit.repeats);
  $('audit').dataset.ok = String(audit.gaps + audit.repeats === 0);
}
function checkSequence(topic, seq, run) {
  const last = audit.last[topic];
  if (last && last.run === run) {
    if (seq <= last.seq) audit.repeats += 1;
    else audit.gaps += seq - last.seq - 1;
  }
  if (!last || last.run !== run || seq > last.seq) audit.last[topic] = { run, seq };
  sessionStorage.setItem(AUDIT_KEY, JSON.stringify(audit));
  showAudit();
}
showAudit();

// --- devices --------------------------------------------------------------------------------------
const deviceRows = new Map();
for (const { room, device } of devices) {
  const row = document.createElement('li');
  row.dataset.device = device;
  row.dataset.status = 'unknown';
  row.innerHTML = `<i></i><span class="name">${device} <small>${room}</small></span><span class="reading"></span><span class="state">…</span>`;
  $('devices').append(row);
  deviceRows.set(device, row);
  $('command').elements.device.append(new Option(device, device));
  showReading(device);
}
function showDevice(device, status) {
  const row = deviceRows.get(device);
  if (!row) return;
  row.dataset.status = status;
  row.querySelector('.state').textContent = status;
  for (const item of document.querySelectorAll(`.legend li[data-device="${device}"]`)) item.dataset.status = status;
  const online = [...deviceRows.values()].filter((r) => r.dataset.status === 'online').length;
  $('online').textContent = `${online} of ${deviceRows.size} online`;
}
function showReading(device) {
  const values = page.latest[device] ?? {};
  deviceRows.get(device).querySelector('.reading').textContent = Object.entries(values)
    .map(([metric, v]) => `${v.toFixed(DIGITS[metric] ?? 1)} ${UNITS[metric] ?? ''}`).join(' · ');
}

// --- commands ---------------------------------------------------------------------------------
function showLog() {
  $('log').dataset.empty = String(!page.log.length);
  $('log').replaceChildren(...page.log.map(({ time, text, state }) => {
    const entry = document.createElement('li');
    entry.dataset.state = state;
    entry.innerHTML = '<time></time> <span></span>';
    entry.firstChild.textContent = time;
    entry.lastChild.textContent = text;
    return entry;
  }));
}
function setCommand(entry, state, outcome) {
  entry.state = state;
  entry.text = entry.text.replace(/: .*$/, `: ${outcome}`);
  showLog();
}
let commandCount = 0;
$('command').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target.elements;
  const qos = Number(form.qos.value);
  commandCount += 1;
  const payload = `${form.text.value}#${Date.now().toString(36)}${commandCount}`;
  const entry = { payload, time: clock(Date.now()), text: `${payload} → ${form.device.value} (QoS ${qos}): sending`, state: 'pending' };
  page.log = [entry, ...page.log.slice(0, 29)];
  showLog();
  try {
    await client.publish(`commands/${form.device.value}`, payload, { qos });
    if (entry.state === 'pending') setCommand(entry, 'acked', qos === 0 ? 'sent' : 'acknowledged by the broker');
  } catch (error) {
    setCommand(entry, 'failed', `failed (${error.code ?? error.message})`);
  }
});
showLog();

// --- messages ---------------------------------------------------------------------------------------
function onMessage(message) {
  const [, , device, kind] = message.topic.split('/');
  if (kind === 'status') return showDevice(device, message.text);
  const body = JSON.parse(message.text);
  if (kind === 'reply') {
    // Found after a reload too: a command sent before it is answered after it.
    const entry = page.log.find((e) => e.payload === body.command);
    if (entry) setCommand(entry, 'replied', `done, device replied (received at QoS ${body.qos})`);
    return;
  }
  if (deviceRows.get(device)?.dataset.status !== 'offline') showDevice(device, 'online');
  checkSequence(message.topic, body.seq, body.run);
  charts.get(kind)?.add(device, body.t, body.v);
  page.latest[device] = { ...page.latest[device], [kind]: body.v };
  if (deviceRows.has(device)) showReading(device);
}

// --- round trip through the broker, measured by the page: a QoS 0 echo on its own topic. The
// client's own rttMs needs a PINGREQ, which it sends only when it had nothing else to send for
// the keepalive; a page acknowledging telemetry all the time rarely does.
const ECHO = 'wasmqtt-dashboard/echo';
const echoId = Math.random().toString(36).slice(2);
let echoMs;
function onEcho(message) {
  const [id, connection, sentAt] = message.text.split(' ');
  // Only this page's echoes from this connection: one queued across a reconnect would mislead.
  if (id === echoId && Number(connection) === connections) echoMs = performance.now() - Number(sentAt);
}
setInterval(() => {
  if (client.connected) client.publish(ECHO, `${echoId} ${connections} ${performance.now()}`, { qos: 0 }).catch(() => {});
}, 2_000);

// --- metrics panel --------------------------------------------------------------------------------
const TILES = [
  ['messagesPerSecond', 'messages / s'],
  ['received', 'received'],
  ['sent', 'sent'],
  ['reconnects', 'reconnects'],
  ['inflight', 'in flight'],
  ['queued', 'queued'],
  ['oldestQueuedAgeMs', 'queue age', 'age of the oldest outgoing message not yet acknowledged'],
  ['bytesHeld', 'bytes held', 'topic and payload bytes of the messages the client holds: outgoing unacknowledged, incoming not yet durable'],
  ['deliveryLagP50Ms', 'lag p50', 'publish to handler, from the simulator\'s wasmqtt-ts stamps, last minute (median)'],
  ['deliveryLagP99Ms', 'lag p99', `publish to handler, last minute (99th percentile); an alert above ${ALERT_LAG_MS / 1000} s`],
  ['rttMs', 'ping RTT', `measured at each PINGREQ/PINGRESP: the client pings when it has sent nothing for the keepalive (${KEEPALIVE_S} s); "—" until then`],
  ['echoMs', 'echo RTT', 'a QoS 0 message to the broker and back, every 2 s'],
  ['duplicatesDropped', 'duplicates', 'duplicates dropped by the client\'s de-duplication'],
  ['alerts', 'alerts', 'the client\'s \'alert\' events: queue depth, delivery lag p99 and growth of the bytes held, each past its threshold'],
];
$('metrics').replaceChildren(...TILES.map(([key, label, title]) => {
  const tile = document.createElement('div');
  tile.innerHTML = `<dt></dt><dd data-metric="${key}">–</dd>`;
  tile.firstChild.textContent = label;
  if (title) tile.title = title;
  if (key === 'alerts') tile.className = 'alerts';
  return tile;
}));
const format = (value, key) => {
  if (value == null) return '—';
  if (key.endsWith('Ms')) return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
  if (key === 'bytesHeld') return value >= 1e6 ? `${(value / 1e6).toFixed(1)} MB` : value >= 1e3 ? `${(value / 1e3).toFixed(1)} kB` : `${value} B`;
  return String(Number.isInteger(value) ? value : value.toFixed(1));
};
// --- alerts: the client's 'alert' events, raised past a threshold and cleared under 80 % of it.
const ALERT_NAMES = { queued: 'queue depth', deliveryLagP99Ms: 'delivery lag p99', bytesHeldGrowth: 'bytes held growth' };
const raisedAlerts = new Map(); // metric -> the 'raised' event
const alertLog = []; // every alert event, for the page test
client.on('alert', (alert) => {
  alertLog.push({ ...alert, at: Date.now() });
  if (alert.state === 'raised') raisedAlerts.set(alert.metric, alert);
  else raisedAlerts.delete(alert.metric);
  showMetrics();
});
function alertText() {
  const shown = (metric, value) => (metric.endsWith('Ms') ? format(value, metric) : format(value, metric === 'queued' ? metric : 'bytesHeld'));
  const raised = [...raisedAlerts.values()].map((a) => `${ALERT_NAMES[a.metric] ?? a.metric} ${shown(a.metric, a.value)} > ${shown(a.metric, a.threshold)}`);
  if (raised.length) return raised.join(' · ');
  const last = alertLog.at(-1);
  return last ? `none (last cleared ${clock(last.at)})` : 'none';
}
function showMetrics() {
  const metrics = { ...client.metrics(), echoMs };
  for (const dd of $('metrics').querySelectorAll('dd')) {
    if (dd.dataset.metric === 'alerts') {
      dd.textContent = alertText();
      dd.dataset.state = raisedAlerts.size ? 'raised' : 'clear';
    } else {
      dd.textContent = format(metrics[dd.dataset.metric], dd.dataset.metric);
    }
  }
}
setInterval(showMetrics, 500);
showMetrics();

// --- fault controls -------------------------------------------------------------------------------
for (const button of document.querySelectorAll('button[data-control]')) {
  const path = button.dataset.control;
  button.hidden = !(config.controls ?? []).includes(path);
  button.addEventListener('click', async () => {
    const result = await (await fetch(path, { method: 'POST' })).json();
    const links = `${result.cut} link${result.cut === 1 ? '' : 's'} cut`;
    $('fault-note').textContent = `${clock(Date.now())}: ${links}${result.ms ? `, connections refused for ${result.ms / 1000} s` : ''}.`;
  });
}
$('reload').addEventListener('click', () => location.reload());

window.dashboard = { client, audit, charts, alerts: alertLog };
// Routes before the SUBACK, so retained statuses find their handler; resolves with the SUBACK,
// which waits for the connection.
await Promise.all([
  client.subscribe([{ topic: 'sensors/#', qos: 1 }], onMessage),
  client.subscribe([{ topic: ECHO, qos: 0 }], onEcho),
]).catch((error) => {
  showState('error', `subscribe failed: ${error.message}`);
});
