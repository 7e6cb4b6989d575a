// The subscriber pass in an editor session: reused while the files it read are unchanged (an edit in an unrelated
// file costs no walk), run again when the driver changes, and results equal to a fresh project's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine, getParser } from '../helpers.mjs';

const DRIVER = join(ROOT, 'test/fixtures/subscriber/nonblocking/v4.19-mutex-without-blockable-test.c');
const MM = join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/wp-page-2012-before.c');

test('the subscriber pass is reused across unrelated edits and redone when the driver changes', async () => {
  const parser = await getParser();
  const p = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: engine.parseVersion('4.19', 'test') });
  try {
    const driver = readFileSync(DRIVER, 'utf8');
    const mm = readFileSync(MM, 'utf8');
    p.setFile(DRIVER, driver);
    p.setFile(MM, mm);
    const sub = (r) => r.findings.filter((f) => f.rule === 'nonblocking-invalidate-sleeps').map((f) => `${f.line}:${f.column}`);
    const first = sub(p.analyze());
    assert.equal(first.length, 2);
    assert.equal(p.timing.subscriberPasses, 1);
    p.setFile(MM, mm.replace('{', '{\n\t/* an edit */'));
    assert.deepEqual(sub(p.analyze()), first);
    assert.equal(p.timing.subscriberPasses, 1, 'an edit in a file the pass did not read reuses it');
    // The driver's sleeping mutex becomes a trylock-or-bail: one finding fewer, from a new pass.
    p.setFile(DRIVER, driver.replace(/mutex_lock\(&gmn->lock\);/, 'if (!mutex_trylock(&gmn->lock))\n\t\treturn -EAGAIN;'));
    const after = sub(p.analyze());
    assert.equal(p.timing.subscriberPasses, 2);
    assert.equal(after.length, 1);
  } finally {
    p.dispose();
  }
});
