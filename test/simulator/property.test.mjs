// Property test: random witness paths (seeded PRNG) never make the simulator throw, and its output stays well-formed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../helpers.mjs';

const sim = createRequire(import.meta.url)(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist/simulator.js'));

const KINDS = ['entry', 'lock', 'unlock', 'range_start', 'range_end', 'set_pte_at_notify', 'clear_flush_notify', 'notifier_call', 'call', 'branch', 'goto', 'return', 'sleep'];
const CALLEES = ['mmu_notifier_invalidate_range_start', 'mmu_notifier_invalidate_range_end', 'mmu_notifier_invalidate_page', 'mmu_notifier_invalidate_range', 'mmu_notifier_change_pte', 'ptep_clear_young_notify', 'mystery_notifier'];
const LOCKS = ['ptl', 'vmf->ptl', 'src_ptl', 'dst_ptl'];
const RULES = ['unbracketed-change-pte', 'notifier-under-ptl', 'range-imbalance', 'unknown-rule'];
const SUBS = [undefined, 'kvm', 'odp', 'sva', 'device', 'all'];
const VERSIONS = [undefined, '3.6', '4.12', '5.13', '6.1', '6.10', 'garbage'];

function randomCase(rand) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const len = Math.floor(rand() * 9);
  const path = [];
  for (let i = 0; i < len; i++) {
    const event = pick(KINDS);
    const e = { file: 'f.c', line: i + 1, column: 1, event };
    if (event === 'lock' || event === 'unlock') e.lock = pick(LOCKS);
    if (event === 'notifier_call') {
      e.callee = pick(CALLEES);
      e.maySleep = rand() < 0.5;
    }
    if (rand() < 0.1) e.detail = '<img src=x onerror=alert(1)>';
    path.push(e);
  }
  const opts = { subscriber: pick(SUBS), kernelVersion: pick(VERSIONS), bound: 12 + Math.floor(rand() * 10), maxStates: 3000 };
  if (rand() < 0.2) opts.kvmMode = pick(['update-existing', 'warn-only', 'skip-if-count-0', 'install']);
  return { finding: { rule: pick(RULES), path }, opts };
}

test('500 random event sequences (seed 20240607) never throw and give well-formed results', () => {
  const rand = prng(20240607);
  let hazards = 0;
  for (let k = 0; k < 500; k++) {
    const { finding, opts } = randomCase(rand);
    let r;
    assert.doesNotThrow(() => {
      r = sim.simulateFinding(finding, opts);
    }, `case ${k}: ${JSON.stringify({ finding, opts })}`);
    if (r.hazard) hazards++;
    for (const v of [r, r.fixed]) {
      assert.equal(typeof v.hazard, 'boolean');
      assert.equal(v.hazard, v.violations.length > 0);
      v.steps.forEach((s, i) => assert.equal(s.n, i + 1));
      for (const x of v.violations) assert.ok(x.step >= 1 && x.step <= v.steps.length);
      assert.ok(v.steps.length <= r.scenario.bound);
    }
    assert.equal(typeof sim.renderTraceText(r), 'string');
  }
  assert.ok(hazards > 50, `the random paths should find hazards too (found ${hazards})`);
});

test('malformed input degrades instead of throwing', () => {
  assert.doesNotThrow(() => sim.simulateFinding({ rule: 'unbracketed-change-pte', path: undefined }));
  assert.doesNotThrow(() => sim.simulateFinding({ rule: 'x', path: [null, 3, { event: 'bogus' }, { event: 'lock' }] }));
});
