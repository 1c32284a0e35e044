// What the hostile-broker page tests check after each case: the page still answers, and the
// wasm module's memory, which never shrinks, is read to show how much a peer made it hold.

/** Resolves with true when a page.evaluate round trip answers within `ms`, false if not. */
export async function answers(page, ms = 15_000) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([page.evaluate(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The size in bytes of the wasm module's linear memory in the page. */
export const wasmMemory = (page) => page.evaluate(async () => (await window.wasmqtt.load()).memory.buffer.byteLength);

/** IndexedDB and the other storage of the page's origin, in bytes, as the browser counts them. */
export const storageUsage = (page) => page.evaluate(async () => (await navigator.storage.estimate()).usage);

/**
 * Starts `new MqttClient(url, options)` in the page as window.client and records what the
 * application is told in window.told: every error, close and connect event, and in
 * window.messages each message as [topic, payload length, text (of payloads up to 64 bytes)].
 * Returns at once; `await window.client.ready` is the test's to do.
 */
export function startClient(page, url, options) {
  return page.evaluate(([url, options]) => {
    window.told = [];
    window.messages = [];
    const client = new window.wasmqtt.MqttClient(url, options);
    client.on('error', (e) => window.told.push({ event: 'error', code: e.code, reasonCode: e.reasonCode ?? null, message: e.message }));
    client.on('close', (d) => window.told.push({ event: 'close', reason: d.reason, reasonCode: d.reasonCode ?? null }));
    client.on('connect', (d) => window.told.push({ event: 'connect', sessionPresent: d.sessionPresent }));
    client.on('message', (topic, payload) => window.messages.push([topic, payload.length, payload.length <= 64 ? new TextDecoder().decode(payload) : null]));
    window.client = client;
  }, [url, options]);
}

/** What the application was told so far (see startClient). */
export const told = (page) => page.evaluate(() => window.told);
