// The broker helpers themselves: ports, restart on the same ports, kill -9, no process left
// behind, for mosquitto's startBroker and for every broker of scripts/lib/brokers.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startBroker } from '../../scripts/lib/broker.mjs';
import { BROKERS } from '../../scripts/lib/brokers.mjs';

const accepts = (port, host = '127.0.0.1') => new Promise((resolve) => {
  const s = net.connect({ host, port });
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});
const isRunning = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('broker restarts on the same ports after stop and after kill -9', async () => {
  const broker = await startBroker({ persistence: true });
  try {
    const { tcpPort, wsPort } = broker;
    assert.notEqual(tcpPort, wsPort);
    const firstPid = broker.child.pid;
    await broker.restart({ kill: true });
    assert.equal(isRunning(firstPid), false, 'killed broker is gone');
    assert.equal(await accepts(tcpPort), true);
    assert.equal(await accepts(wsPort), true);
    await broker.restart();
    assert.equal(broker.tcpPort, tcpPort);
    assert.equal(await accepts(wsPort), true);
  } finally {
    await broker.dispose();
  }
  assert.equal(await accepts(broker.tcpPort), false, 'nothing listens after dispose');
});

for (const spec of BROKERS) {
  test(`${spec.name}: listens on 127.0.0.1 only, restarts on the same ports, nothing listens after dispose`, async () => {
    const broker = await spec.start();
    const ports = [broker.tcpPort, broker.wsPort];
    try {
      for (const port of ports) {
        assert.equal(await accepts(port), true);
        // Another loopback address: a listener bound to all interfaces would accept there.
        assert.equal(await accepts(port, '127.0.0.2'), false, `${spec.name} bound to more than 127.0.0.1`);
      }
      const firstPid = broker.child.pid;
      await broker.restart({ kill: true });
      assert.equal(isRunning(firstPid), false, 'killed broker is gone');
      for (const port of ports) assert.equal(await accepts(port), true);
      assert.ok(broker.log().length > 0, 'it writes a log');
    } finally {
      await broker.dispose();
    }
    for (const port of ports) assert.equal(await accepts(port), false, 'nothing listens after dispose');
  });
}

for (const [name, startCall] of [['startBroker (mosquitto)', 'startBroker()'], ...BROKERS.map((b) => [b.name, `BROKERS.find((b) => b.name === '${b.name}').start()`])]) {
  test(`${name}: a broker left running is killed when its Node process exits`, async () => {
    const script = `
      import { startBroker } from ${JSON.stringify(new URL('../../scripts/lib/broker.mjs', import.meta.url).href)};
      import { BROKERS } from ${JSON.stringify(new URL('../../scripts/lib/brokers.mjs', import.meta.url).href)};
      const b = await ${startCall};
      console.log(b.child.pid, b.dir);
      process.exit(3);`;
    let pid;
    try {
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    } catch (error) {
      const [printedPid, dir] = error.stdout.trim().split(' ');
      pid = Number(printedPid);
      rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(pid > 0);
    // The killed broker is reaped by init shortly after its parent exits.
    for (let i = 0; i < 40 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(isRunning(pid), false);
  });
}
