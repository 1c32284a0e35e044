// Debian's Chromium driven by playwright-core: never a downloaded browser.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

/** Launches headless Chromium; the caller closes it. */
export function launchBrowser(options = {}) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ...options });
}

/**
 * Starts Chromium the way a user has it and attaches playwright-core to its default context
 * without Playwright's overrides: a profile on disk (so IndexedDB honours storage quotas), and
 * no focus emulation or anti-throttling switches (so a tab behind another one is really hidden,
 * with hidden-tab timer throttling and page freezing). Resolves with { browser, context, close }.
 */
export async function launchUserBrowser({ args = [] } = {}) {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'wasmqtt-chromium-'));
  const child = spawn(CHROMIUM, ['--headless', ...CHROMIUM_ARGS, ...args, '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, 'about:blank'], { stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Chromium's helper processes (renderers, crashpad) share its process group: kill them all, or
  // they keep writing into the profile while it is being removed.
  const killAll = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } };
  const killOnExit = killAll;
  process.once('exit', killOnExit);
  const remove = () => rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  try {
    // Chromium writes its DevTools port into the profile once it listens.
    const portFile = path.join(profile, 'DevToolsActivePort');
    const deadline = Date.now() + 20_000;
    while (!existsSync(portFile) || !readFileSync(portFile, 'utf8').includes('\n')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('Chromium did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = readFileSync(portFile, 'utf8').split('\n')[0];
    const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { noDefaults: true });
    return {
      browser,
      context: browser.contexts()[0],
      async close() {
        await browser.close().catch(() => {});
        killAll();
        await exited;
        process.off('exit', killOnExit);
        remove();
      },
    };
  } catch (error) {
    killAll();
    await exited;
    remove();
    throw error;
  }
}
