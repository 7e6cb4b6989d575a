// Incremental re-parse: after edits, the project's findings equal those of a fresh parse of the final text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine, getParser } from '../helpers.mjs';

const strip = (r) => r.findings.map((f) => `${f.rule}@${f.line}:${f.column} ${f.message}`);

test('edits applied one by one give the same findings as a fresh analysis', async () => {
  const parser = await getParser();
  const base = readFileSync(join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/wp-page-2012-after.c'), 'utf8');
  const opts = { settings: engine.DEFAULT_SETTINGS, kernelVersion: engine.parseVersion('3.7', 't') };
  const live = new engine.Project(parser, opts);
  live.setFile('/a.c', base);
  assert.deepEqual(strip(live.analyze()), []);
  // Remove the range start: now flagged; then add it back: clean again; then insert lines above: positions move.
  const noStart = base.replace('\tmmu_notifier_invalidate_range_start(mm, mmun_start, mmun_end);\n', '');
  const steps = [noStart, base, '/* one */\n/* two */\n' + noStart, base.replace('#include', '#include')];
  for (const text of steps) {
    live.setFile('/a.c', text);
    const fresh = new engine.Project(parser, opts);
    fresh.setFile('/a.c', text);
    assert.deepEqual(strip(live.analyze()), strip(fresh.analyze()));
    fresh.dispose();
  }
  live.setFile('/a.c', '/* one */\n/* two */\n' + noStart);
  const moved = live.analyze().findings;
  assert.ok(moved.length >= 1 && moved.every((f) => f.line > 2));
  live.dispose();
});

test('a function that only moved is rebased exactly: paths, related locations and fix offsets equal a fresh analysis', async () => {
  const parser = await getParser();
  const base = readFileSync(join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/lazy-start-in-loop.c'), 'utf8');
  const opts = { settings: engine.DEFAULT_SETTINGS, kernelVersion: engine.parseVersion('4.14', 't') };
  const live = new engine.Project(parser, opts);
  live.setFile('/l.c', base);
  live.analyze();
  for (const prefix of ['/* a */ ', '\n\n/* three\nlines */\n', '']) {
    const text = prefix + base;
    live.setFile('/l.c', text);
    const fresh = new engine.Project(parser, opts);
    fresh.setFile('/l.c', text);
    assert.deepEqual(live.analyze(), fresh.analyze());
    fresh.dispose();
  }
  live.dispose();
});

test('diffEdit describes the single changed region', () => {
  const e = engine.diffEdit('abc\ndef\nghi', 'abc\ndXYf\nghi');
  assert.equal(e.startIndex, 5);
  assert.equal(e.oldEndIndex, 6);
  assert.equal(e.newEndIndex, 7);
  assert.deepEqual(e.startPosition, { row: 1, column: 1 });
  assert.equal(engine.diffEdit('same', 'same'), undefined);
});
