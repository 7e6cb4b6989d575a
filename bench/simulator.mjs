// Simulator benchmark: per worked trace, time and states to the first violation, to the shown hazard, and for the full
// bounded exploration of the fixed variant; plus simulate+render time against the 500 ms first-frame budget. Run after `node scripts/build.mjs`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const sim = require(join(root, 'dist/simulator.js'));
const esbuild = require('esbuild');
const out = esbuild.buildSync({ entryPoints: [join(root, 'client/src/webview/render.ts')], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent' });
const mod = { exports: {} };
new Function('module', 'exports', 'require', out.outputFiles[0].text)(mod, mod.exports, require);
const { renderSimulationHtml } = mod.exports;

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** Median wall time (ms) of fn over RUNS runs, after one warm-up; returns [ms, last value]. */
function measure(fn) {
  let v = fn();
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    v = fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return [times[Math.floor(times.length / 2)], v];
}
const ms = (x) => `${x.toFixed(1)} ms`;

console.log(`simulator benchmark (median of ${RUNS} runs, node ${process.version})`);
const rows = [];
for (const n of [1, 2, 3]) {
  const w = sim.workedTrace(n);
  const scenario = sim.buildScenario(w, w.opts);
  const flagged = sim.buildModel(scenario, w.path);
  const [tFirst, first] = measure(() => sim.explore(flagged, { stopAtFirst: true }));
  const [tShown, shown] = measure(() => sim.explore(flagged));
  const fix = sim.fixPath(w.rule, w.path, scenario);
  const fixedModel = sim.buildModel(fix.scenario, fix.path);
  const [tFixed, fixed] = measure(() => sim.explore(fixedModel));
  const [tFrame] = measure(() => renderSimulationHtml(sim.simulateFinding(w, w.opts), { nonce: 'n', cspSource: 'c', title: 't' }));
  rows.push({ n, tFirst, first, tShown, shown, tFixed, fixed, tFrame });
  console.log(`\ntrace ${n}: ${w.title}`);
  console.log(`  first violation      : ${ms(tFirst)}, ${first.firstViolation.states} states discovered, schedule of ${first.firstViolation.schedule.length} steps`);
  console.log(`  shown hazard (rank ${shown.rank}): ${ms(tShown)}, ${shown.statesExplored} states explored, schedule of ${shown.schedule.length} steps`);
  console.log(`  fixed, full bound    : ${ms(tFixed)}, ${fixed.statesExplored} states, exhaustive=${fixed.exhaustive}, violation=${fixed.schedule !== null}`);
  console.log(`  ratios               : fixed/first-violation time x${(tFixed / tFirst).toFixed(1)}, fixed/first-violation states x${(fixed.statesExplored / first.firstViolation.states).toFixed(1)}, shown/first time x${(tShown / tFirst).toFixed(1)}`);
  console.log(`  simulate+render HTML : ${ms(tFrame)} = ${((tFrame / 500) * 100).toFixed(0)}% of the 500 ms first-frame budget`);
}
const worst = Math.max(...rows.map((r) => r.tFrame));
console.log(`\nworst simulate+render: ${ms(worst)} (${worst < 500 ? 'within' : 'OVER'} the 500 ms budget)`);
