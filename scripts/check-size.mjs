// `npm test`'s size budget: the bundle a minimal Vite app ships for `import { connect } from
// 'wasmqtt'` (scripts/lib/minimal-app.mjs: every emitted asset, gzip -9) stays within BUDGET_KIB.
// A size is deterministic for a given toolchain, unlike a time, so this is a test. Needs pkg/.
import { minimalAppBundle } from './lib/minimal-app.mjs';

// The target is 60 KiB (issue #14.5, aim 40). Until the browser layer's redesign gets there, the
// budget is the size measured after the codec API left the client bundle, rounded up to the next
// KiB: a ratchet that stops growth. Lower it as the bundle shrinks (bench/SIZE.md, which says
// what each raise paid for).
export const BUDGET_KIB = 174;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { assets, gzip } = minimalAppBundle();
  for (const a of assets) console.log(`${a.file}: ${a.raw} B, gzip ${a.gzip} B`);
  const kib = (gzip / 1024).toFixed(1);
  if (gzip > BUDGET_KIB * 1024) {
    console.error(`size budget exceeded: the minimal Vite app ships ${kib} KiB gzipped, over the budget of ${BUDGET_KIB} KiB (scripts/check-size.mjs, bench/SIZE.md)`);
    process.exit(1);
  }
  console.log(`size budget kept: ${kib} KiB of ${BUDGET_KIB} KiB gzipped`);
}
