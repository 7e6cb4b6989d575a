// Exploration is deterministic: the same input gives the same trace and the same (pinned) number of states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const sim = require(join(root, 'dist/simulator.js'));

/** The worked trace n simulated with its own options. */
function runWorked(n, extra = {}) {
  const w = sim.workedTrace(n);
  return sim.simulateFinding(w, { ...w.opts, ...extra });
}

// Observed counts; a change here means the model or the search changed: review the traces, then update.
const EXPECTED = {
  1: { flagged: 22, first: 9, fixed: 218 },
  2: { flagged: 32, first: 6, fixed: 107 },
  3: { flagged: 5732, first: 239, fixed: 6502 },
};

for (const n of [1, 2, 3]) {
  test(`worked trace ${n}: two runs agree exactly, and the state counts are stable`, () => {
    const a = runWorked(n);
    const b = runWorked(n);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.equal(a.statesExplored, EXPECTED[n].flagged);
    assert.equal(a.statesToFirstViolation, EXPECTED[n].first);
    assert.equal(a.fixed.statesExplored, EXPECTED[n].fixed);
    assert.equal(a.fixed.statesToFirstViolation, null);
  });
}

test('BFS returns the shortest schedule: no schedule of the flagged trace 2 deadlocks in fewer steps', () => {
  const r = runWorked(2, { bound: 6 });
  assert.ok(!r.violations.some((v) => v.invariant === 'I6'), 'I6 needs 7 steps');
  const r7 = runWorked(2, { bound: 7 });
  assert.ok(r7.violations.some((v) => v.invariant === 'I6' && v.step === 7));
});

test('a bound too small to finish says so', () => {
  const r = runWorked(1, { bound: 3 });
  assert.equal(r.fixed.boundReached, true);
  assert.equal(r.fixed.exhaustive, false);
  assert.match(r.fixed.summary, /up to the depth bound 3/);
});

test('maxStates stops a huge exploration without throwing', () => {
  const r = runWorked(3, { maxStates: 100 });
  assert.ok(r.statesExplored <= 100);
  assert.equal(r.exhaustive, false);
});

test('lower-level API: explore a model directly', () => {
  const w = sim.workedTrace(1);
  const scenario = sim.buildScenario(w, w.opts);
  const m = sim.buildModel(scenario, w.path);
  const ex = sim.explore(m);
  assert.equal(ex.statesExplored, EXPECTED[1].flagged);
  assert.equal(ex.schedule.length, 9);
});
