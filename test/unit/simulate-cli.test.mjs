// `notifier-audit simulate` on engine findings (witness paths that stop at the flagged call): for every subscriber
// kind the flagged path shows a hazard and the fixed one holds; a line without a finding lists the file's findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const BIN = join(ROOT, 'bin/notifier-audit.js');
const FIX = join(ROOT, 'test/fixtures/rules');
const sim = (...args) => spawnSync(process.execPath, [BIN, 'simulate', ...args], { encoding: 'utf8', timeout: 60000 });

const CASES = [
  ['unbracketed-change-pte/wp-page-2012-before.c:21', '3.7'],
  ['notifier-under-ptl/hugetlb-cow-page-table-lock.c:12', '3.6'],
  ['notifier-under-ptl/invalidate-page-in-pvmw-loop-v4.12.c:25', '4.12'],
  ['notifier-under-ptl/null-pte-v6.5.c:37', '6.5'],
];

for (const [target, version] of CASES) {
  for (const subscriber of ['all', 'odp']) {
    test(`simulate ${target} --subscriber ${subscriber}: hazard on the flagged path, none on the fixed one`, () => {
      const r = sim(join(FIX, target), '--subscriber', subscriber, '--kernel-version', version, '--format', 'json');
      assert.equal(r.status, 1, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.hazard, true);
      assert.ok(j.violations.length >= 1);
      for (const v of j.violations) assert.match(v.invariant, /^I[1-6]$/);
      assert.equal(j.fixed.hazard, false, JSON.stringify(j.fixed.violations));
      assert.ok(j.steps.some((s) => s.source && s.source.line >= 1), 'steps of the replayed path carry source positions');
    });
  }
}

test('simulate an unbracketed change with an SVA-like subscriber (v5.10): stale IOTLB entry, fixed by the bracket and the flush', () => {
  const r = sim(join(FIX, 'unbracketed-change-pte/wp-page-2012-before.c:21'), '--subscriber', 'sva', '--kernel-version', '5.10', '--format', 'json');
  const j = JSON.parse(r.stdout);
  assert.equal(j.hazard, true);
  assert.equal(j.fixed.hazard, false);
});

test('an SVA-like subscriber never sleeps: a range call under the PTL is no hazard for it', () => {
  const r = sim(join(FIX, 'notifier-under-ptl/null-pte-v6.5.c:37'), '--subscriber', 'sva', '--kernel-version', '6.5', '--format', 'json');
  assert.equal(r.status, 0);
  assert.equal(JSON.parse(r.stdout).hazard, false);
});

test('simulate on a line without a finding says so and lists the findings', () => {
  const r = sim(join(FIX, 'unbracketed-change-pte/wp-page-2012-before.c:5'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no finding at .*:5\. Findings in this file:\n.*:21: \[unbracketed-change-pte\] in do_wp_page_copy\(\)/);
  assert.equal(sim('nonexistent.c:3').status, 2);
  assert.equal(sim('no-line-number.c').status, 2);
});
