// The subscriber rules through the CLI: findings on the bundled example, `simulate` on each rule's fixture finding
// (the hazard on the flagged path, none on the fixed one), a hint-only result exits 0, SARIF carries the rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const BIN = join(ROOT, 'bin/notifier-audit.js');
const SUB = join(ROOT, 'test/fixtures/subscriber');
const cli = (...args) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60000 });

test('the example driver: the sleeping mutex and the ignored retry, with exit 1', () => {
  const r = cli(join(ROOT, 'examples/driver-invalidate-sleeps.c'), '--kernel-version', '5.10', '--format', 'json');
  assert.equal(r.status, 1, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.findings.map((f) => `${f.rule}@${f.line}`), ['nonblocking-invalidate-sleeps@16', 'interval-sequence@55']);
  const f = j.findings[0];
  assert.equal(f.variant, 'sleeps');
  assert.equal(f.path[0].event, 'entry');
  assert.equal(f.path[f.path.length - 1].event, 'sleep');
  assert.match(f.detail, /93065ac753e4/);
});

const SIMS = [
  ['nonblocking/v4.19-mutex-without-blockable-test.c:23', '4.19', /I1|I6/],
  ['nonblocking/kvm-arm64-two-files/mmu.c:35', '5.4', /I1/],
  ['atomic/v5.4-change-pte-mutex.c:16', '5.4', /I1/],
  ['interval/v5.10-retry-without-lock.c:44', '5.10', /I3|I5/],
  ['interval/v5.10-invalidate-true-without-set-seq.c:47', '5.10', /I3|I5/],
  ['register/v5.10-register-under-mmap-lock.c:27', '5.10', /I6/],
];
for (const [target, version, inv] of SIMS) {
  test(`simulate ${target}: the hazard of the finding, and the fixed code holds`, () => {
    const r = cli('simulate', join(SUB, target), '--kernel-version', version, '--format', 'json');
    assert.equal(r.status, 1, r.stderr + r.stdout.slice(0, 400));
    const j = JSON.parse(r.stdout);
    assert.equal(j.hazard, true);
    assert.match(j.violations.map((v) => v.invariant).join(' '), inv);
    assert.equal(j.fixed.hazard, false, JSON.stringify(j.fixed.violations));
  });
}

test('hints alone (a deliberate pattern) do not fail the run', () => {
  const r = cli(join(SUB, 'interval/v5.10-migrate-owner-early-return.c'), '--kernel-version', '5.10', '--format', 'json');
  const j = JSON.parse(r.stdout);
  assert.ok(j.findings.every((f) => f.severity === 'hint'), JSON.stringify(j.findings.map((f) => f.severity)));
  assert.equal(r.status, 0);
});

test('SARIF lists the subscriber rules and a result for a subscriber finding', () => {
  const r = cli(join(ROOT, 'examples/driver-invalidate-sleeps.c'), '--format', 'sarif');
  const run = JSON.parse(r.stdout).runs[0];
  for (const id of ['nonblocking-invalidate-sleeps', 'atomic-callback-sleeps', 'interval-sequence', 'register-under-mmap-lock']) assert.ok(run.tool.driver.rules.some((x) => x.id === id), id);
  assert.ok(run.results.some((x) => x.ruleId === 'nonblocking-invalidate-sleeps' && x.level === 'error'));
});
