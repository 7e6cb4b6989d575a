// The three worked traces of hazards.md reproduce: the same invariants broken at the same steps, and each fixed variant holds.
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

/** [invariant, step, event] of each violation, in order. */
function broken(variant) {
  return variant.violations.map((v) => [v.invariant, v.step, variant.steps[v.step - 1].event]);
}


test('trace 1: unbracketed KSM merge breaks I3 at the unlock, then I5 at the device write to the reused page', () => {
  const r = runWorked(1);
  assert.equal(r.hazard, true);
  assert.deepEqual(broken(r), [
    ['I3', 6, 'unlock ptl'],
    ['I5', 9, 'device write'],
  ]);
  const events = r.steps.map((s) => `${s.actor}:${s.event}`);
  assert.deepEqual(events, [
    'T0:entry replace_page',
    'T0:lock ptl',
    'T0:clear old PTE + set_pte_at_notify: change_pte',
    'T0:set_pte_at_notify: set_pte_at(NEW)',
    'T0:put_page(OLD)',
    'T0:unlock ptl',
    'T0:return',
    'ALLOC:page reused',
    'DEV:device write',
  ]);
  assert.match(r.steps[2].change, /NOT told/);
  assert.match(r.steps[4].change, /OLD is FREED/);
  assert.match(r.violations[1].explanation, /CORRUPTS the other process's memory/);
  assert.deepEqual(r.steps[5].source, { file: 'mm/ksm.c', line: 1140, column: 2 });
  assert.equal(r.steps[8].source, undefined, 'concurrent actors have no source position');
  const shadow = r.steps[8].state.shadow[0];
  assert.deepEqual(shadow.pte, { page: 'OLD', writable: true });
  assert.equal(r.steps[8].state.pages.find((p) => p.id === 'OLD').state, 'reused');
});

test('trace 1 fixed: range_start zaps first, the concurrent fault retries, the refault maps NEW; nothing breaks', () => {
  const r = runWorked(1);
  assert.equal(r.fixed.hazard, false);
  assert.deepEqual(r.fixed.violations, []);
  assert.equal(r.fixed.exhaustive, true);
  assert.equal(r.fixed.boundReached, false);
  const ev = r.fixed.path.map((e) => e.event);
  assert.deepEqual(ev, ['entry', 'range_start', 'lock', 'set_pte_at_notify', 'unlock', 'range_end', 'return']);
  const changes = r.fixed.steps.map((s) => s.change).join('\n');
  assert.match(changes, /zaps its shadow PTE \(was OLD/);
  assert.match(changes, /the fault RETRIES/);
  assert.match(changes, /installs shadow PTE -> NEW/);
  assert.ok(r.fixed.steps.every((s) => s.invariants === 'hold'));
});

test('trace 2: range_start under the PTL breaks I2, the callback sleeps on the rwsem (I1), T1 spins on the PTL (I6)', () => {
  const r = runWorked(2);
  assert.equal(r.hazard, true);
  assert.deepEqual(broken(r), [
    ['I2', 3, 'range_start'],
    ['I1', 6, 'range_start -> odp.invalidate_range_start (waits)'],
    ['I6', 7, 'fault: walk page table (ptl) (waits)'],
  ]);
  assert.equal(r.steps[1].state.threads.find((t) => t.id === 'T0').preempt, 1);
  assert.equal(r.steps[4].state.locks.find((l) => l.lock === 'umem_rwsem').holder, 'T1');
  assert.match(r.violations[2].explanation, /T0 waits for umem_rwsem \(held by T1\); T1 waits for ptl \(held by T0\)/);
});

test('trace 2 fixed: range_start, lock, set_pte, unlock, range_end holds every invariant', () => {
  const r = runWorked(2);
  assert.deepEqual(
    r.fixed.path.map((e) => e.event),
    ['entry', 'range_start', 'lock', 'set_pte_at_notify', 'unlock', 'range_end', 'return'],
  );
  assert.equal(r.fixed.hazard, false);
  assert.equal(r.fixed.exhaustive, true);
});

test('trace 3: two open ranges, KVM install mode: I4 at the change_pte install, then I5 once B freed NEW', () => {
  const r = runWorked(3);
  assert.equal(r.hazard, true);
  const b = broken(r);
  assert.deepEqual(b[0], ['I4', 8, 'set_pte_at_notify: change_pte']);
  assert.deepEqual(b[b.length - 1], ['I5', 22, 'guest write']);
  assert.deepEqual(b.map((x) => x[0]), ['I4', 'I3', 'I5']);
  assert.equal(r.steps[0].actor, 'T2', 'B (the other invalidation) starts first');
  assert.equal(r.steps[7].state.shadow[0].openRanges, 2);
  assert.match(r.steps[7].change, /INSTALLS shadow PTE -> NEW/);
  assert.match(r.violations[2].explanation, /page NEW, which was freed and now belongs to another process/);
});

test('trace 3 fixed: with the count-must-be-1 guard nothing is installed under two ranges; all invariants hold', () => {
  const r = runWorked(3);
  assert.equal(r.fixed.hazard, false);
  assert.equal(r.fixed.exhaustive, true);
  assert.match(r.fixed.fixDescription, /count-must-be-1 guard/);
  assert.ok(r.fixed.steps.some((s) => /the guard \(count must be 1\) ignores it/.test(s.change)), 'the flagged interleaving is replayed on the fixed model');
});

test('version awareness: an unbracketed set_pte_at_notify is harmless before v3.7 and for KVM update-existing', () => {
  const w = sim.workedTrace(1);
  assert.equal(sim.simulateFinding(w, { ...w.opts, kernelVersion: '3.6' }).hazard, false);
  assert.equal(sim.simulateFinding(w, { ...w.opts, subscriber: 'kvm', kernelVersion: '4.12' }).hazard, false);
  assert.equal(sim.simulateFinding(w, { ...w.opts, subscriber: 'kvm', kernelVersion: '6.1' }).hazard, true, 'skip-if-count-0 relies on the bracket');
  const odp = sim.simulateFinding(w, { ...w.opts, subscriber: 'odp' });
  assert.equal(odp.hazard, true);
  assert.equal(odp.fixed.hazard, false);
});

test('every subscriber choice: the fixed variants of traces 1 and 2 hold', () => {
  for (const n of [1, 2]) {
    for (const subscriber of ['device', 'odp', 'sva', 'kvm']) {
      const w = sim.workedTrace(n);
      const r = sim.simulateFinding(w, { ...w.opts, subscriber });
      assert.equal(r.fixed.hazard, false, `trace ${n} fixed with ${subscriber}`);
    }
  }
});

test('defaults come from the rule: unbracketed -> non-pinning device + fault + device access + allocator; under-ptl -> ODP + fault', () => {
  const w1 = sim.workedTrace(1);
  const s1 = sim.simulateFinding({ rule: w1.rule, path: w1.path }).scenario;
  assert.deepEqual(s1.subscribers.map((s) => s.kind), ['device']);
  assert.deepEqual(s1.actors.map((a) => a.kind), ['path', 'fault', 'device', 'allocator']);
  assert.equal(s1.kernelVersion, '6.1');
  const w2 = sim.workedTrace(2);
  const s2 = sim.simulateFinding({ rule: w2.rule, path: w2.path }).scenario;
  assert.deepEqual(s2.subscribers.map((s) => s.kind), ['odp']);
  assert.deepEqual(s2.actors.map((a) => a.kind), ['path', 'fault']);
});

test('text rendering names both variants, every step and the broken invariants', () => {
  const r = runWorked(1);
  const text = sim.renderTraceText(r);
  assert.match(text, /^Simulation of unbracketed-change-pte \(kernel 6\.1, KSM merge pattern\)/);
  assert.match(text, /Flagged path:\nHAZARD on the flagged path: I3 at step 6, I5 at step 9\./);
  assert.match(text, />>> I3 BROKEN: after unlock ptl/);
  assert.match(text, /\(mm\/ksm\.c:1140:2\)/);
  assert.match(text, /Fixed path \(mmu_notifier_invalidate_range_start\(\) before the lock is taken/);
  assert.match(text, /No invariant breaks on the fixed path: \d+ states explored \(the whole space within the bound\)/);
});

test('the result is clean JSON (round-trips unchanged)', () => {
  for (const n of [1, 2, 3]) {
    const r = runWorked(n);
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  }
});

test('before v3.7 an unbracketed change is replayed with both semantics: safe on the tree, the hazard from v3.7', async () => {
  const { simulateFinding } = await import('../../dist/simulator.js').then((m) => m.default ?? m);
  const path = [
    { file: 'ksm.c', line: 1, column: 1, event: 'entry', detail: 'replace_page' },
    { file: 'ksm.c', line: 2, column: 2, event: 'lock', lock: 'ptl', detail: 'pte_offset_map_lock() takes ptl' },
    { file: 'ksm.c', line: 3, column: 2, event: 'set_pte_at_notify', callee: 'set_pte_at_notify', detail: 'set_pte_at_notify()' },
    { file: 'ksm.c', line: 4, column: 2, event: 'unlock', lock: 'ptl', detail: 'pte_unmap_unlock() releases ptl' },
  ];
  const old = simulateFinding({ rule: 'unbracketed-change-pte', path, function: 'replace_page' }, { kernelVersion: '3.6' });
  assert.equal(old.hazard, false);
  assert.match(old.summary, /Correct on v3\.6 by design/);
  assert.equal(old.scenario.patternLabel, 'KSM merge');
  assert.ok(old.laterSemantics, 'replayed with the v3.7 semantics too');
  assert.equal(old.laterSemantics.hazard, true);
  const now = simulateFinding({ rule: 'unbracketed-change-pte', path, function: 'replace_page' }, { kernelVersion: '4.4' });
  assert.equal(now.hazard, true);
  assert.equal(now.laterSemantics, undefined);
  const thp = simulateFinding({ rule: 'notifier-under-ptl', path, function: 'collapse_pte_mapped_thp' }, { kernelVersion: '6.12' });
  assert.equal(thp.scenario.patternLabel, 'THP collapse');
});

test('a *_notify macro is replayed as its expansion in the version: pre-v3.13 pmdp_clear_flush_notify() sleeps under the lock (I1), and the split fix holds', async () => {
  const path = [
    { file: 'huge_memory.c', line: 1, column: 1, event: 'entry', detail: 'do_huge_pmd_wp_page' },
    { file: 'huge_memory.c', line: 2, column: 2, event: 'lock', lock: 'mm->page_table_lock', detail: 'spin_lock() takes mm->page_table_lock' },
    { file: 'huge_memory.c', line: 3, column: 2, event: 'clear_flush_notify', callee: 'pmdp_clear_flush_notify', maySleep: true,
      expansion: 'mmu_notifier_invalidate_range_start + mmu_notifier_invalidate_range_end', detail: 'pmdp_clear_flush_notify()' },
  ];
  const r = sim.simulateFinding({ rule: 'notifier-under-ptl', path, function: 'do_huge_pmd_wp_page' }, { kernelVersion: '3.6' });
  assert.equal(r.hazard, true);
  assert.ok(r.violations.some((v) => v.invariant === 'I1'), JSON.stringify(r.violations.map((v) => v.invariant)));
  assert.ok(!r.steps.some((s) => /invalidate_page/.test(s.event)), 'not simulated as invalidate_page');
  assert.equal(r.fixed.hazard, false);
  // The plain clear stays under the lock in the fixed path (2ec74c3's split), the range goes around it.
  const ev = r.fixed.steps.filter((s) => s.actor === 'T0').map((s) => s.event).join(' | ');
  assert.ok(ev.indexOf('range_start') < ev.indexOf('lock mm->page_table_lock') && ev.indexOf('cleared') > ev.indexOf('lock mm->page_table_lock') && ev.lastIndexOf('range_end') > ev.indexOf('unlock mm->page_table_lock'), ev);
});

test('a range-imbalance witness that returns with its range open breaks I7, and the balanced fixed path does not', () => {
  const path = [
    { file: 'memory.c', line: 1, column: 1, event: 'entry', detail: 'wp_page_copy' },
    { file: 'memory.c', line: 2, column: 2, event: 'range_start', callee: 'mmu_notifier_invalidate_range_start', maySleep: true },
    { file: 'memory.c', line: 3, column: 2, event: 'branch', detail: '!pte_map_lock(vmf) -> true' },
    { file: 'memory.c', line: 4, column: 2, event: 'return', detail: 'return VM_FAULT_RETRY' },
  ];
  const r = sim.simulateFinding({ rule: 'range-imbalance', path, function: 'wp_page_copy' }, { kernelVersion: '4.19' });
  assert.equal(r.hazard, true);
  assert.ok(r.violations.some((v) => v.invariant === 'I7'));
  assert.equal(r.fixed.hazard, false);
});
