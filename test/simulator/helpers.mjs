// Loads the built simulator bundle (dist/simulator.js); run `node scripts/build.mjs` first.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
export const sim = require(join(root, 'dist/simulator.js'));

/** The worked trace n simulated with its own options. */
export function runWorked(n, extra = {}) {
  const w = sim.workedTrace(n);
  return sim.simulateFinding(w, { ...w.opts, ...extra });
}

/** [invariant, step, event] of each violation, in order. */
export function broken(variant) {
  return variant.violations.map((v) => [v.invariant, v.step, variant.steps[v.step - 1].event]);
}
