// Where findings land and how severe they are, beyond the fixture line lists: pre-v3.7 rule A and invalidate_page
// under the PTL are warnings with the version note; a caller-level report names the set_pte_at_notify() line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, analyzeFiles, engine } from '../helpers.mjs';

const fx = (p) => join(ROOT, 'test/fixtures/rules', p);

test('before v3.7, unbracketed-change-pte is a warning that says the code was correct then', async () => {
  const r = await analyzeFiles([fx('unbracketed-change-pte/pre-3.7-still-reported.c')], '3.6');
  assert.equal(r.findings.length, 1);
  assert.equal(r.findings[0].severity, 'warning');
  assert.match(r.findings[0].detail, /correct then/);
  assert.ok(r.findings[0].message.length < 120, r.findings[0].message);
  const r2 = await analyzeFiles([fx('unbracketed-change-pte/pre-3.7-still-reported.c')], '3.10');
  assert.equal(r2.findings[0].severity, 'error');
});

test('before v3.7, invalidate_page under the PTL is a warning naming the v3.7 series', async () => {
  const r = await analyzeFiles([fx('notifier-under-ptl/invalidate-page-under-ptl-v3.6.c')], '3.6');
  assert.equal(r.findings.length, 2);
  for (const f of r.findings) {
    assert.equal(f.severity, 'warning');
    assert.match(f.detail, /before v3\.7 this was the design/i);
    assert.match(f.detail, /move all mmu notifier invocations to be done outside the PT lock/);
    assert.ok(f.message.length < 160, f.message);
  }
  // The same code on v3.10 (invalidate_page may sleep, outside the lock by then): an error.
  const r2 = await analyzeFiles([fx('notifier-under-ptl/invalidate-page-under-ptl-v3.6.c')], '3.10');
  assert.equal(r2.findings.length, 2);
  for (const f of r2.findings) assert.equal(f.severity, 'error');
});

test('a report moved to a caller names the set_pte_at_notify() line and starts at the caller', async () => {
  const r = await analyzeFiles([fx('unbracketed-change-pte/convention-one-level-at-a-time.c')], '5.4');
  assert.equal(r.findings.length, 1);
  const f = r.findings[0];
  assert.equal(f.function, 'outer_unbracketed');
  assert.ok(f.related.some((x) => x.line === 16 && /set_pte_at_notify/.test(x.message)), JSON.stringify(f.related));
  assert.equal(f.path[0].event, 'entry');
  assert.equal(f.path[0].detail, 'outer_unbracketed');
});

test('no caller brackets: one report, at the set_pte_at_notify() line, whatever the number of roots', async () => {
  const r = await analyzeFiles([fx('unbracketed-change-pte/no-caller-brackets.c')], '4.4');
  assert.deepEqual(r.findings.map((f) => [f.function, f.line]), [['wp_copy', 16]]);
});

test('__releases() on a prototype in the tree\'s headers names a lock-releasing function', () => {
  const m = new engine.KernelModel(engine.parseVersion('6.12', 't'));
  const n = m.learnReleases('void migration_entry_wait_on_locked(swp_entry_t entry, spinlock_t *ptl)\n\t\t__releases(ptl);\nvoid other(int a) __releases(RCU);\nint my_wait_unlock(struct foo *f, pte_t *pte, spinlock_t *lockp) __releases(lockp);');
  assert.equal(n, 1); // migration_entry_wait_on_locked is built in; RCU is not a parameter
  assert.equal(m.unlockHelper('my_wait_unlock').lockArg, 2);
});

test('before v3.7 a range start or end under the PTL is the design (callbacks ran under rcu_read_lock): a warning', async () => {
  const r = await analyzeFiles([fx('notifier-under-ptl/hugetlb-cow-page-table-lock.c')], '3.6');
  assert.equal(r.findings.length, 2);
  for (const f of r.findings) {
    assert.equal(f.severity, 'warning');
    assert.match(f.detail, /rcu_read_lock/);
  }
  const r2 = await analyzeFiles([fx('notifier-under-ptl/hugetlb-cow-page-table-lock.c')], '3.7');
  for (const f of r2.findings) assert.equal(f.severity, 'error');
});
