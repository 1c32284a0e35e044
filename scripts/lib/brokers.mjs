// The broker implementations the interop tests run against, behind one interface: each start
// function resolves with a BrokerProcess (scripts/lib/broker.mjs: TCP and WebSocket listeners on
// free 127.0.0.1 ports, a log file, stop / kill / dispose, a watchdog). Each is set up to refuse
// subscriptions to REFUSED_FILTER, in its own way. scripts/setup.sh installs them all.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBroker, freePort, BrokerProcess } from './broker.mjs';
import { ROOT } from './serve.mjs';

/** A filter every broker here refuses (amqtt's TopicTabooPlugin has it built in). */
export const REFUSED_FILTER = 'prohibited';

// Debian's mosquitto package ships it in the architecture's library folder.
const DYNSEC = ['/usr/lib', ...readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu')).map((d) => `/usr/lib/${d}`)]
  .map((d) => `${d}/mosquitto_dynamic_security.so`).find((f) => existsSync(f));
const AMQTT = process.env.AMQTT || path.join(ROOT, '.cache', 'amqtt', 'bin', 'amqtt');

async function listeners(prefix) {
  return {
    dir: mkdtempSync(path.join(os.tmpdir(), `wasmqtt-${prefix}-`)),
    ports: { tcpPort: await freePort(), wsPort: await freePort() },
  };
}

/**
 * mosquitto (Debian's), refusing REFUSED_FILTER through its dynamic security plugin: its
 * acl_file only filters what is delivered and grants every SUBSCRIBE (seen with 2.0.11).
 */
async function startMosquitto() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wasmqtt-broker-'));
  const dynsec = path.join(dir, 'dynamic-security.json');
  writeFileSync(dynsec, JSON.stringify({
    defaultACLAccess: { publishClientSend: true, publishClientReceive: true, subscribe: true, unsubscribe: true },
    clients: [],
    groups: [{ groupname: 'anonymous', roles: [{ rolename: 'refuser' }] }],
    roles: [{ rolename: 'refuser', acls: [{ acltype: 'subscribePattern', topic: REFUSED_FILTER, allow: false, priority: 0 }] }],
    anonymousGroup: 'anonymous',
  }));
  const broker = await startBroker({ dir, extraConfig: `plugin ${DYNSEC}\nplugin_opt_config_file ${dynsec}` });
  broker.ownsDir = true;
  return broker;
}

/** aedes (npm) in its own Node process, with the ws package as its WebSocket front. */
async function startAedes() {
  const { dir, ports } = await listeners('aedes');
  const broker = new BrokerProcess({
    name: 'aedes',
    command: process.execPath,
    args: [path.join(ROOT, 'scripts', 'lib', 'aedes-broker.mjs')],
    env: { AEDES_TCP_PORT: ports.tcpPort, AEDES_WS_PORT: ports.wsPort, AEDES_REFUSE: REFUSED_FILTER },
    ports,
    dir,
    ownsDir: true,
    logFile: 'aedes.log',
    outputToLog: true,
  });
  await broker.start();
  return broker;
}

/** amqtt (PyPI), from the venv scripts/setup.sh makes, with its TopicTabooPlugin. */
async function startAmqtt() {
  const { dir, ports } = await listeners('amqtt');
  // JSON is YAML: amqtt reads this file with a YAML parser.
  const config = {
    listeners: {
      default: { type: 'tcp', bind: `127.0.0.1:${ports.tcpPort}` },
      ws: { type: 'ws', bind: `127.0.0.1:${ports.wsPort}` },
    },
    plugins: {
      'amqtt.plugins.logging_amqtt.EventLoggerPlugin': {},
      // amqtt keeps no session for a client it let in anonymously (no subscriptions, nothing
      // queued after it disconnects, whatever clean says); with allow_anonymous false this
      // plugin lets in any client that gives a user name, and keeps its session.
      'amqtt.plugins.authentication.AnonymousAuthPlugin': { allow_anonymous: false },
      'amqtt.plugins.topic_checking.TopicTabooPlugin': {},
    },
  };
  const configPath = path.join(dir, 'amqtt.yaml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const broker = new BrokerProcess({
    name: 'amqtt',
    command: AMQTT,
    args: ['-c', configPath],
    ports,
    dir,
    ownsDir: true,
    logFile: 'amqtt.log',
    outputToLog: true,
    // amqtt shuts down cleanly on SIGINT (KeyboardInterrupt); SIGTERM would end Python at once.
    stopSignal: 'SIGINT',
  });
  await broker.start();
  return broker;
}

/**
 * Each broker: `start()` resolves with a running broker; `protocolVersions` the MQTT versions
 * it speaks (4: 3.1.1, 5: 5.0); `version()` what is installed; `clientOptions` what every
 * client of it needs; `quirks` where it departs from the spec, as seen in the interop tests
 * (tests/page/interop.test.mjs asserts them, so that a fixed broker shows):
 * - deliversAtGrantedQos: forwards at the subscription's granted QoS, not at the minimum of that
 *   and the QoS published (MQTT-3.8.4-6 in 3.1.1), e.g. a QoS 0 message delivered at QoS 2.
 * - retainedOnConnect: sends every retained message, matching or not, to a client as it
 *   connects (before any SUBSCRIBE), so a new subscriber gets it a second time.
 */
export const BROKERS = [
  {
    name: 'mosquitto',
    protocolVersions: [4, 5],
    clientOptions: {},
    quirks: {},
    start: startMosquitto,
    // `mosquitto -h` prints its version and exits non-zero.
    version: () => spawnSync(process.env.MOSQUITTO || '/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8' })
      .stdout.match(/mosquitto version (\S+)/)?.[1],
  },
  {
    name: 'aedes',
    protocolVersions: [4],
    clientOptions: {},
    quirks: {},
    start: startAedes,
    version: () => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'aedes', 'package.json'), 'utf8')).version,
  },
  {
    name: 'amqtt',
    protocolVersions: [4],
    clientOptions: { username: 'interop' },
    quirks: { deliversAtGrantedQos: true, retainedOnConnect: true },
    start: startAmqtt,
    version: () => execFileSync(AMQTT, ['--version'], { encoding: 'utf8' }).trim(),
  },
];
