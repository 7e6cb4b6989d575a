// Every rule fixture: the findings equal the `expect:` comments written in the file, and the witness path is well formed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, listFiles, expectations, analyzeFiles } from '../helpers.mjs';

const dir = join(ROOT, 'test/fixtures/rules');
for (const file of listFiles(dir)) {
  test(`fixture ${relative(dir, file)}`, async () => {
    const text = readFileSync(file, 'utf8');
    const exp = expectations(text);
    const r = await analyzeFiles([file], exp.version);
    const got = r.findings.map((f) => `${f.rule}@${f.line}`).sort();
    assert.deepEqual(got, exp.expected, r.findings.map((f) => `${f.line}: ${f.message}`).join('\n'));
    assert.deepEqual(r.suppressed.map((f) => `${f.rule}@${f.line}`).sort(), exp.suppressed);
    assert.deepEqual(r.incomplete, []);
    assert.deepEqual(r.errors, []);
    for (const f of r.findings) {
      assert.ok(f.path.length >= 2, 'witness path has events');
      assert.equal(f.path[0].event, 'entry');
      for (const e of f.path) assert.ok(e.line >= 1 && e.column >= 1 && e.file === file);
      assert.ok(f.endLine > f.line || (f.endLine === f.line && f.endColumn > f.column));
    }
  });
}
