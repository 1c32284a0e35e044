// What the page shows, kept across a reload of this tab. The MQTT session survives a reload in
// IndexedDB and at the broker, so messages that arrive while the page is away are delivered when
// it is back; what it had already shown (chart history, disconnections, the command log) is the
// page's own, and sessionStorage keeps it: per tab like the session's page, synchronous, so the
// copy written at `pagehide` is complete when the next page reads it. Retained messages would
// only give the last value of each series, not the history.
const KEY = 'wasmqtt-dashboard-page';

/** The state the previous page of this tab left, or {}. */
export function restore() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY)) ?? {};
  } catch {
    return {};
  }
}

/** Saves `snapshot()` when the page goes away, and every few seconds in case it crashes. */
export function keep(snapshot) {
  const save = () => {
    try {
      sessionStorage.setItem(KEY, JSON.stringify(snapshot()));
    } catch (error) {
      console.warn('dashboard: history not kept', error); // quota: the charts start empty after a reload
    }
  };
  addEventListener('pagehide', save);
  setInterval(save, 5_000);
}
