// A real mosquitto for tests, benchmarks and `npm start`: generated config, TCP and WebSocket
// listeners on free loopback ports, optional persistence, stop / kill -9 / restart on the same
// ports. A watchdog process kills the broker if this Node process dies without stopping it.
// BrokerProcess does the same for any broker run as a child process (scripts/lib/brokers.mjs).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, openSync, closeSync, appendFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const MOSQUITTO = process.env.MOSQUITTO || '/usr/sbin/mosquitto';
const live = new Set();

/** A free TCP port on 127.0.0.1, as the kernel hands one out. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function renderConfig({ tcpPort, wsPort, wssPort, tls, dir, persistence, maxQueuedMessages, extraConfig, passwordFile }) {
  const lines = [
    'per_listener_settings false',
    `allow_anonymous ${passwordFile ? 'false' : 'true'}`,
    ...(passwordFile ? [`password_file ${passwordFile}`] : []),
    `listener ${tcpPort} 127.0.0.1`,
    // mosquitto 2.0.11 binds a WebSocket listener given an address to every interface
    // (libwebsockets binds to an interface: eclipse-mosquitto/mosquitto#2085, #3045); `lo` keeps
    // it on loopback, where `ss` shows it as [::ffff:127.0.0.1].
    `listener ${wsPort} lo`,
    'protocol websockets',
    `persistence ${persistence ? 'true' : 'false'}`,
    `persistence_location ${dir}/`,
    'autosave_interval 1',
    `max_queued_messages ${maxQueuedMessages}`,
    `log_dest file ${path.join(dir, 'mosquitto.log')}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
  ];
  if (tls) {
    lines.push(`listener ${wssPort} lo`, 'protocol websockets', `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`);
  }
  // As root, mosquitto would switch to the `mosquitto` user and lose access to our temp dir.
  if (process.getuid && process.getuid() === 0) lines.push('user root');
  if (extraConfig) lines.push(extraConfig);
  return lines.join('\n') + '\n';
}

/** A mosquitto password file for `users` ({ name: password }), made with mosquitto_passwd. */
function writePasswordFile(dir, users) {
  const file = path.join(dir, 'passwords');
  writeFileSync(file, '');
  for (const [name, password] of Object.entries(users)) {
    execFileSync('mosquitto_passwd', ['-b', file, name, password]);
  }
  return file;
}

/**
 * Starts mosquitto and resolves once both listeners accept connections.
 * Options: persistence (bool), maxQueuedMessages (default 1000, mosquitto's own; 0 = no limit),
 * extraConfig (lines appended to the config), dir (reuse a folder, e.g. to keep persistence),
 * users ({ name: password }: anonymous access off, these users only),
 * tls ({ certFile, keyFile }, PEM files, e.g. from makeTestCertificates in tls.mjs: adds a
 * WebSocket-over-TLS listener, `wssUrl`).
 */
export async function startBroker(options = {}) {
  const dir = options.dir || mkdtempSync(path.join(os.tmpdir(), 'wasmqtt-broker-'));
  const settings = {
    tcpPort: options.tcpPort || await freePort(),
    wsPort: options.wsPort || await freePort(),
    wssPort: options.tls ? options.wssPort || await freePort() : null,
    tls: options.tls || null,
    dir,
    persistence: Boolean(options.persistence),
    maxQueuedMessages: options.maxQueuedMessages ?? 1000,
    extraConfig: options.extraConfig || '',
    passwordFile: options.users ? writePasswordFile(dir, options.users) : null,
  };
  const configPath = path.join(dir, 'mosquitto.conf');
  writeFileSync(configPath, renderConfig(settings));
  const broker = new Mosquitto({
    name: 'mosquitto',
    command: MOSQUITTO,
    args: ['-c', configPath],
    ports: settings,
    dir,
    ownsDir: !options.dir,
    logFile: 'mosquitto.log',
  });
  broker.configPath = configPath;
  await broker.start();
  return broker;
}

/**
 * A broker running as a child process of this one, any implementation: its loopback listeners
 * (`ports`: tcpPort, wsPort, optional wssPort), a folder with its log, start / stop / kill -9 /
 * restart on the same ports. `outputToLog`: the process writes its log to stdout/stderr, which
 * go to `logPath` (mosquitto writes its own file and only start-up errors to stderr).
 */
export class BrokerProcess {
  constructor({ name, command, args, env = {}, ports, dir, ownsDir, logFile, outputToLog = false, stopSignal = 'SIGTERM' }) {
    this.name = name;
    this.command = command;
    this.args = args;
    this.env = env;
    this.settings = { ...ports, dir };
    this.ownsDir = ownsDir;
    this.logFile = logFile;
    this.outputToLog = outputToLog;
    this.stopSignal = stopSignal;
    this.child = null;
    this.watchdog = null;
  }

  get tcpPort() { return this.settings.tcpPort; }
  get wsPort() { return this.settings.wsPort; }
  get wsUrl() { return `ws://127.0.0.1:${this.settings.wsPort}`; }
  get wssPort() { return this.settings.wssPort; }
  /** The TLS WebSocket listener (with the `tls` option). */
  get wssUrl() { return this.settings.wssPort ? `wss://127.0.0.1:${this.settings.wssPort}` : null; }
  get tcpUrl() { return `mqtt://127.0.0.1:${this.settings.tcpPort}`; }
  get dir() { return this.settings.dir; }
  get logPath() { return path.join(this.settings.dir, this.logFile); }

  /** The broker's log so far ('' before it wrote one). */
  log() {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  async start() {
    if (this.child) return;
    const out = this.outputToLog ? openSync(this.logPath, 'a') : 'ignore';
    const child = spawn(this.command, this.args, { stdio: ['ignore', out, 'pipe'], env: { ...process.env, ...this.env } });
    if (this.outputToLog) closeSync(out);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (this.outputToLog) appendFileSync(this.logPath, d);
    });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child = child;
    this.exited = exited;
    live.add(this);
    this.watchdog = spawn('sh', ['-c',
      `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill -9 ${child.pid} 2>/dev/null`],
      { stdio: 'ignore', detached: true });
    this.watchdog.unref();
    let early = null;
    exited.then((result) => { early = result; });
    const ports = [this.tcpPort, this.wsPort, this.wssPort].filter(Boolean);
    try {
      await waitUntil(async () => {
        if (early) throw new Error(`${this.name} exited (${JSON.stringify(early)}): ${stderr.trim().slice(-2000)}`);
        for (const port of ports) if (!(await canConnect(port))) return false;
        return true;
      }, 15_000, `${this.name} on ports ${ports.join('/')}`);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  async #terminate(signal) {
    const child = this.child;
    if (!child) return;
    this.child = null;
    live.delete(this);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    // A broker that ignores SIGTERM for long is killed: a test must not hang on it.
    const late = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(late);
    try { process.kill(this.watchdog.pid, 'SIGKILL'); } catch { /* already gone */ }
  }

  /** Graceful stop (SIGTERM, or the broker's own signal): it saves what it persists and closes connections. */
  stop() { return this.#terminate(this.stopSignal); }

  /** A crash: SIGKILL, no chance to save anything not already saved. */
  kill() { return this.#terminate('SIGKILL'); }

  /** Stops (or kills, with { kill: true }) and starts again on the same ports and folder. */
  async restart({ kill = false } = {}) {
    await (kill ? this.kill() : this.stop());
    await this.start();
  }

  /** Stops the broker and removes its folder if this helper made it. */
  async dispose() {
    await this.stop();
    if (this.ownsDir) rmSync(this.settings.dir, { recursive: true, force: true });
  }
}

class Mosquitto extends BrokerProcess {
  /** How many times mosquitto reported dropping outgoing messages (its queue limit). */
  droppedMessageReports() {
    return (this.log().match(/Outgoing messages are being dropped/g) || []).length;
  }
}

function killAllNow() {
  for (const broker of live) {
    try { broker.child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
}
process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => { killAllNow(); process.exit(128 + os.constants.signals[signal]); });
}
