// Generated pathological functions end: each run exits with a result, and the function is either fully analysed or
// reported incomplete with the reason (time budget, state or observation bound, nesting). Time and memory are measured
// by bench/pathological.mjs against the budget, not asserted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KINDS, SIZES, generate, runCli } from '../../bench/pathological.mjs';

for (const kind of Object.keys(KINDS)) {
  test(`generated ${kind} x ${SIZES[kind]}: the CLI finishes with a result, and an incomplete analysis says why`, () => {
    const r = runCli(kind, SIZES[kind]);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}`);
    for (const i of r.incomplete) assert.match(i.reason, /budget|bound|observations|visits|nested/);
  });
}

test('the generator writes what it says (sizes scale, the C is one function)', () => {
  assert.equal(generate('gotos', 10).match(/goto L/g).length, 10);
  assert.equal(generate('switch', 7).match(/case \d+:/g).length, 7);
  assert.equal((generate('and', 5).match(/&&/g) ?? []).length, 4);
});
