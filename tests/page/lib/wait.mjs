// Waiting helpers shared by the page tests.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` (sync or async) every 25 ms until it holds; throws after `ms`. */
export async function until(predicate, ms = 10_000, what = 'condition') {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`${what} not met in ${ms} ms`);
    await sleep(25);
  }
}
