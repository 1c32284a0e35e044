// The broker helper itself: ports, restart on the same ports, kill -9, no process left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startBroker } from '../../scripts/lib/broker.mjs';

const accepts = (port) => new Promise((resolve) => {
  const s = net.connect({ host: '127.0.0.1', port });
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

test('a broker left running is killed when its Node process exits', async () => {
  const script = `
    import { startBroker } from ${JSON.stringify(new URL('../../scripts/lib/broker.mjs', import.meta.url).href)};
    const b = await startBroker();
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
