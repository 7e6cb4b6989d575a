// Batch runs parse only the functions that can matter: same findings as a full parse, on every rule fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine, getParser, listFiles, expectations } from '../helpers.mjs';

test('partial parsing finds exactly what a full parse finds', async () => {
  const parser = await getParser();
  for (const file of listFiles(join(ROOT, 'test/fixtures/rules'))) {
    const text = readFileSync(file, 'utf8');
    const v = expectations(text).version;
    const run = (partialParse) => {
      const p = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: v ? engine.parseVersion(v, 't') : null, partialParse });
      p.setFile(file, text);
      const r = p.analyze();
      p.dispose();
      return r;
    };
    assert.deepEqual(run(true), run(false), file);
  }
});

test('functionItems finds file-level function definitions and not structs or declarations', () => {
  const text = 'struct s { int a; };\nstatic int f(int x)\n{\n\treturn x;\n}\nint g(void);\nvoid h(void) __releases(x)\n{\n\t{ }\n}\n';
  const mask = engine.maskText(engine.prepass(text).text).mask;
  const items = engine.functionItems(mask).map((it) => text.slice(it.start, it.end).trim());
  assert.deepEqual(items, ['static int f(int x)\n{\n\treturn x;\n}', 'void h(void) __releases(x)\n{\n\t{ }\n}']);
});
