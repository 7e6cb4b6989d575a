// Subscriber-side rules (drivers implementing notifiers): each variant's flagged witness shows its hazard with the
// expected invariants, the fixed path shows none, and odd or random witnesses never make the simulator throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../helpers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sim = createRequire(import.meta.url)(join(root, 'dist/simulator.js'));

const F = 'drivers/gpu/drm/x.c';
const ev = (line, event, extra = {}) => ({ file: F, line, column: 2, event, ...extra });
const entry = (detail) => ev(10, 'entry', { detail });

const CASES = [
  {
    name: 'nonblocking: mutex_lock on the driver lock (amdgpu-like)',
    finding: {
      rule: 'nonblocking-invalidate-sleeps',
      variant: 'sleeps',
      function: 'amdgpu_mn_invalidate_range_start_gfx',
      path: [
        entry('invalidate_range_start callback amdgpu_mn_invalidate_range_start_gfx (range may be non-blockable)'),
        ev(12, 'branch', { detail: 'range->event == MMU_NOTIFY_UNMAP -> true' }),
        ev(13, 'call', { callee: 'amdgpu_mn_lock' }),
        ev(20, 'sleep', { callee: 'mutex_lock', lock: 'amn->lock', via: 'amdgpu_mn_lock' }),
      ],
    },
    flagged: ['I1', 'I6'],
    label: /OOM reaper vs\. non-blocking invalidate/,
  },
  {
    name: 'nonblocking: dma_fence_wait_timeout under a mutex',
    finding: {
      rule: 'nonblocking-invalidate-sleeps',
      variant: 'sleeps',
      path: [
        entry('invalidate_range_start callback gpu_mn_invalidate_range_start (range may be non-blockable)'),
        ev(11, 'lock', { lock: 'gmn->lock', detail: 'mutex_lock' }),
        ev(12, 'branch', { detail: 'bo -> true' }),
        ev(13, 'sleep', { callee: 'dma_fence_wait_timeout' }),
      ],
    },
    flagged: ['I1', 'I6'],
  },
  {
    name: 'nonblocking: kzalloc(GFP_KERNEL) in the reaper (it waits for memory only it frees)',
    finding: { rule: 'nonblocking-invalidate-sleeps', variant: 'sleeps', path: [entry('invalidate_range_start callback x_start (range may be non-blockable)'), ev(13, 'sleep', { callee: 'kzalloc(GFP_KERNEL)' })] },
    flagged: ['I1', 'I6'],
  },
  {
    name: 'nonblocking: cond_resched_lock under the KVM-like spinlock',
    finding: {
      rule: 'nonblocking-invalidate-sleeps',
      variant: 'sleeps',
      path: [
        entry('interval invalidate callback shadow_invalidate (range may be non-blockable)'),
        ev(11, 'lock', { lock: 'kvm->mmu_lock', detail: 'spin_lock' }),
        ev(12, 'call', { callee: 'shadow_zap' }),
        ev(13, 'sleep', { callee: 'cond_resched_lock', lock: 'kvm->mmu_lock', via: 'shadow_zap' }),
      ],
    },
    flagged: ['I1'],
  },
  {
    name: 'atomic: invalidate_range callback takes a mutex under the PTL',
    finding: { rule: 'atomic-callback-sleeps', variant: 'sleeps', path: [entry('invalidate_range callback sva_invalidate_range'), ev(13, 'sleep', { callee: 'mutex_lock', lock: 'bond->mutex' })] },
    flagged: ['I1', 'I6'],
    label: /page-table lock/,
  },
  {
    name: 'atomic: change_pte callback flushes a workqueue',
    finding: { rule: 'atomic-callback-sleeps', variant: 'sleeps', path: [entry('change_pte callback x_change_pte'), ev(13, 'sleep', { callee: 'flush_workqueue' })] },
    flagged: ['I1', 'I6'],
  },
  {
    name: 'atomic: arch_invalidate_secondary_tlbs callback allocates with GFP_KERNEL',
    finding: { rule: 'atomic-callback-sleeps', variant: 'sleeps', path: [entry('arch_invalidate_secondary_tlbs callback x_tlbs'), ev(13, 'sleep', { callee: 'kmalloc(GFP_KERNEL)' })] },
    flagged: ['I1'],
  },
  {
    name: 'interval: no retry at all',
    finding: {
      rule: 'interval-sequence',
      variant: 'no-retry',
      function: 'nouveau_range_fault',
      path: [
        entry('nouveau_range_fault'),
        ev(11, 'call', { callee: 'mmu_interval_read_begin' }),
        ev(12, 'call', { callee: 'hmm_range_fault' }),
        ev(13, 'lock', { lock: 'svmm->mutex', detail: 'mutex_lock' }),
        ev(14, 'call', { callee: 'nvif_object_ioctl' }),
        ev(15, 'unlock', { lock: 'svmm->mutex', detail: 'mutex_unlock' }),
        ev(16, 'return', { detail: '0' }),
      ],
    },
    flagged: ['I3', 'I5'],
    label: /interval notifier mapping path/,
  },
  {
    name: 'interval: retry result ignored',
    finding: {
      rule: 'interval-sequence',
      variant: 'retry-ignored',
      path: [
        entry('drv_map'),
        ev(11, 'call', { callee: 'mmu_interval_read_begin' }),
        ev(12, 'call', { callee: 'hmm_range_fault' }),
        ev(13, 'lock', { lock: 'drv->lock', detail: 'mutex_lock' }),
        ev(14, 'call', { callee: 'mmu_interval_read_retry' }),
        ev(15, 'unlock', { lock: 'drv->lock', detail: 'mutex_unlock' }),
      ],
    },
    flagged: ['I3', 'I5'],
  },
  {
    name: 'interval: retry checked without the driver lock',
    finding: {
      rule: 'interval-sequence',
      variant: 'retry-unlocked',
      path: [
        entry('drv_map'),
        ev(11, 'call', { callee: 'mmu_interval_read_begin' }),
        ev(12, 'call', { callee: 'hmm_range_fault' }),
        ev(13, 'call', { callee: 'mmu_interval_read_retry' }),
        ev(14, 'branch', { detail: 'mmu_interval_read_retry(&mni, seq) -> false' }),
        ev(15, 'lock', { lock: 'drv->lock', detail: 'mutex_lock' }),
        ev(16, 'unlock', { lock: 'drv->lock', detail: 'mutex_unlock' }),
      ],
    },
    flagged: ['I3', 'I5'],
  },
  {
    name: 'interval: retry with no lock anywhere',
    finding: {
      rule: 'interval-sequence',
      variant: 'retry-unlocked',
      path: [entry('drv_map'), ev(11, 'call', { callee: 'mmu_interval_read_begin' }), ev(13, 'call', { callee: 'mmu_interval_read_retry' }), ev(16, 'return', { detail: '0' })],
    },
    flagged: ['I3', 'I5'],
  },
  {
    name: 'interval: invalidate returns true without mmu_interval_set_seq',
    finding: {
      rule: 'interval-sequence',
      variant: 'no-set-seq',
      path: [
        entry('interval invalidate callback drv_invalidate'),
        ev(11, 'lock', { lock: 'drv->lock', detail: 'mutex_lock' }),
        ev(12, 'call', { callee: 'drv_zap' }),
        ev(13, 'unlock', { lock: 'drv->lock', detail: 'mutex_unlock' }),
        ev(14, 'return', { detail: 'true' }),
      ],
    },
    flagged: ['I3', 'I5'],
    label: /mmu_interval_set_seq/,
  },
  {
    name: 'interval: no-set-seq callback without any lock',
    finding: { rule: 'interval-sequence', variant: 'no-set-seq', path: [entry('interval invalidate callback drv_invalidate'), ev(14, 'return', { detail: 'true' })] },
    flagged: ['I3', 'I5'],
  },
  {
    name: 'register: mmu_notifier_register through a wrapper under mmap_write_lock',
    finding: {
      rule: 'register-under-mmap-lock',
      variant: 'register-locked',
      path: [
        entry('drv_open'),
        ev(11, 'lock', { lock: 'mm->mmap_lock', detail: 'mmap_write_lock' }),
        ev(12, 'call', { callee: 'drv_register' }),
        ev(13, 'call', { callee: 'mmu_notifier_register', via: 'drv_register' }),
      ],
    },
    flagged: ['I6'],
    label: /registration under the mmap lock/,
    fix: /__mmu_notifier_register/,
  },
  {
    name: 'register: mmu_interval_notifier_insert under down_read(mmap_sem)',
    finding: {
      rule: 'register-under-mmap-lock',
      variant: 'register-locked',
      path: [
        entry('drv_open'),
        ev(11, 'lock', { lock: 'mm->mmap_sem', detail: 'down_read' }),
        ev(13, 'call', { callee: 'mmu_interval_notifier_insert' }),
        ev(14, 'unlock', { lock: 'mm->mmap_sem', detail: 'up_read' }),
      ],
    },
    flagged: ['I6'],
    fix: /moved after/,
  },
];

for (const c of CASES) {
  test(`${c.name}: hazard (${c.flagged.join(', ')}) on the flagged path, none on the fixed one`, () => {
    const r = sim.simulateFinding(c.finding, { kernelVersion: '6.1' });
    assert.equal(r.hazard, true, r.summary);
    const got = new Set(r.violations.map((v) => v.invariant));
    for (const inv of c.flagged) assert.ok(got.has(inv), `${inv} expected, got ${[...got].join(', ')}: ${r.summary}`);
    assert.equal(r.fixed.hazard, false, `${r.fixed.summary}\n${JSON.stringify(r.fixed.violations)}`);
    assert.equal(r.fixed.exhaustive, true, 'the fixed space is small enough to explore completely');
    assert.ok(r.fixed.fixDescription.length > 0);
    assert.equal(r.scenario.variant, c.finding.variant);
    if (c.label) assert.match(r.scenario.patternLabel, c.label);
    if (c.fix) assert.match(r.fixed.fixDescription, c.fix);
    assert.ok(r.steps.some((s) => s.source && s.source.line >= 10), 'the replayed path carries source positions');
    assert.equal(JSON.stringify(sim.simulateFinding(c.finding, { kernelVersion: '6.1' })), JSON.stringify(r), 'deterministic');
    const text = sim.renderTraceText(r);
    assert.match(text, /Flagged path:/);
    assert.match(text, /Fixed path \(/);
  });
}

test('the OOM reaper trace: non-block depth, the driver thread waiting for memory, the wait-for cycle', () => {
  const r = sim.simulateFinding(CASES[0].finding, { kernelVersion: '6.1' });
  const i1 = r.violations.find((v) => v.invariant === 'I1');
  assert.match(i1.explanation, /sleeping function called from invalid context/);
  assert.match(i1.explanation, /non-block depth 1/);
  const i6 = r.violations.find((v) => v.invariant === 'I6');
  assert.match(i6.explanation, /T0 waits for amn->lock \(held by W\); W waits for free memory \(held by T0\)/);
  assert.ok(r.steps.some((s) => s.state.threads.some((t) => t.id === 'T0' && t.nonBlock === 1)));
  assert.ok(r.scenario.actors.some((a) => a.id === 'W' && a.kind === 'thread' && a.holds === 'amn->lock'));
  // The fix is the trylock form: the reaper gets -EAGAIN when the driver thread holds the lock.
  assert.match(r.fixed.fixDescription, /mutex_trylock\(amn->lock\)\) return -EAGAIN/);
});

test('the atomic callback breaks I1 as "scheduling while atomic" (preempt count from the PTL)', () => {
  const r = sim.simulateFinding(CASES[4].finding, { kernelVersion: '5.10' });
  assert.match(r.violations.find((v) => v.invariant === 'I1').explanation, /scheduling while atomic/);
  assert.match(r.violations.find((v) => v.invariant === 'I6').explanation, /T1 waits for ptl \(held by T0\)/);
});

test('interval mapping path: the device ends with a stale translation of a freed, reused page', () => {
  const r = sim.simulateFinding(CASES[7].finding, {});
  const i5 = r.violations.find((v) => v.invariant === 'I5');
  assert.match(i5.explanation, /freed/);
  assert.ok(r.steps.some((s) => /program the device page table/.test(s.event)));
  // The fixed loop retries: the sequence moved under the lock.
  const fixedRun = sim.simulateFinding(CASES[7].finding, { bound: 40 });
  assert.equal(fixedRun.fixed.hazard, false);
  assert.match(r.fixed.fixDescription, /mmu_interval_read_retry/);
});

test('retry-ignored: the trace says the result of mmu_interval_read_retry was ignored', () => {
  const r = sim.simulateFinding(CASES[8].finding, {});
  assert.ok(r.steps.some((s) => /IGNORED/.test(s.change)), r.steps.map((s) => s.change).join('\n'));
});

test('register under the mmap lock: a self-deadlock of T0', () => {
  const r = sim.simulateFinding(CASES[13].finding, {});
  assert.match(r.violations[0].explanation, /T0 waits for mm->mmap_lock \(held by T0\)/);
  assert.equal(r.steps.length, 4);
});

test('a missing or unknown variant falls back to the rule\'s generic one', () => {
  const noVariant = { ...CASES[7].finding };
  delete noVariant.variant;
  assert.equal(sim.simulateFinding(noVariant, {}).scenario.variant, 'no-retry');
  assert.equal(sim.simulateFinding({ ...CASES[7].finding, variant: 'bogus' }, {}).scenario.variant, 'no-retry');
  const inv = { ...CASES[11].finding };
  delete inv.variant;
  assert.equal(sim.simulateFinding(inv, {}).scenario.variant, 'no-set-seq', 'an invalidate callback without read_begin');
  assert.equal(sim.simulateFinding({ ...CASES[0].finding, variant: 42 }, {}).scenario.variant, 'sleeps');
  assert.equal(sim.resolveVariant({ rule: 'register-under-mmap-lock', path: [] }), 'register-locked');
});

const RULES = ['nonblocking-invalidate-sleeps', 'atomic-callback-sleeps', 'interval-sequence', 'register-under-mmap-lock'];
const VARIANTS = { 'nonblocking-invalidate-sleeps': ['sleeps'], 'atomic-callback-sleeps': ['sleeps'], 'interval-sequence': ['no-retry', 'retry-ignored', 'retry-unlocked', 'no-set-seq'], 'register-under-mmap-lock': ['register-locked'] };

test('empty and malformed witnesses replay the generic scenario of each rule and variant without throwing', () => {
  const odd = [undefined, null, [], [null, 3, 'x', { event: 'bogus' }], [{ event: 'lock' }, { event: 'unlock' }, { event: 'sleep' }], [{ event: 'call', callee: 42, lock: {}, detail: ['a'] }], [{ event: 'return' }, { event: 'entry' }]];
  for (const rule of RULES) {
    for (const variant of [...VARIANTS[rule], undefined, 'nonsense']) {
      for (const path of odd) {
        let r;
        assert.doesNotThrow(() => {
          r = sim.simulateFinding({ rule, variant, path }, {});
        }, `${rule}/${variant}: ${JSON.stringify(path)}`);
        assert.equal(typeof sim.renderTraceText(r), 'string');
        assert.equal(r.fixed.hazard, false, `${rule}/${variant}: ${JSON.stringify(path)} fixed: ${JSON.stringify(r.fixed.violations)}`);
      }
      // The generic scenario (no events at all) still shows the rule's hazard.
      const g = sim.simulateFinding({ rule, variant, path: [] }, {});
      assert.equal(g.hazard, true, `${rule}/${variant}: generic scenario: ${g.summary}`);
    }
  }
});

test('300 random witnesses of the subscriber-side rules (seed 7) never throw and stay well-formed', () => {
  const rand = prng(7);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const KINDS = ['entry', 'lock', 'unlock', 'call', 'branch', 'goto', 'return', 'sleep'];
  const LOCKS = ['amn->lock', 'kvm->mmu_lock', 'mm->mmap_lock', 'drv->lock', undefined];
  const DETAILS = ['mutex_lock', 'spin_lock', 'mutex_trylock', 'mmap_write_lock', 'down_read', '-EAGAIN', 'true', 'x -> true', undefined];
  const CALLEES = ['mmu_interval_read_begin', 'mmu_interval_read_retry', 'mmu_interval_set_seq', 'hmm_range_fault', 'mmu_notifier_register', '__mmu_notifier_register', 'mmu_interval_notifier_insert', 'mutex_lock', 'kzalloc(GFP_KERNEL)', 'cond_resched_lock', 'flush_workqueue', 'helper', undefined];
  for (let k = 0; k < 300; k++) {
    const rule = pick(RULES);
    const variant = pick([...VARIANTS[rule], undefined, 'odd']);
    const path = [];
    const len = Math.floor(rand() * 9);
    for (let i = 0; i < len; i++) {
      const e = { file: 'f.c', line: i + 1, column: 1, event: pick(KINDS) };
      const l = pick(LOCKS);
      if (l) e.lock = l;
      const d = pick(DETAILS);
      if (d) e.detail = d;
      const c = pick(CALLEES);
      if (c) e.callee = c;
      if (rand() < 0.2) e.via = 'wrapper';
      path.push(e);
    }
    const opts = { kernelVersion: pick([undefined, '4.19', '5.4', '6.1', 'garbage']), bound: 20 + Math.floor(rand() * 20), maxStates: 5000 };
    let r;
    assert.doesNotThrow(() => {
      r = sim.simulateFinding({ rule, variant, path }, opts);
    }, `case ${k}: ${JSON.stringify({ rule, variant, path, opts })}`);
    for (const v of [r, r.fixed]) {
      assert.equal(v.hazard, v.violations.length > 0);
      v.steps.forEach((s, i) => assert.equal(s.n, i + 1));
      for (const x of v.violations) assert.ok(x.step >= 1 && x.step <= v.steps.length);
      assert.ok(v.steps.length <= r.scenario.bound);
    }
    assert.equal(typeof sim.renderTraceText(r), 'string');
  }
});
