// Subscriber-side fixtures (drivers implementing mmu_notifier_ops / mmu_interval_notifier_ops): the findings equal the
// `expect:` comments. Layout: test/fixtures/subscriber/<group>/<name>.c is one fixture; a sub-directory
// test/fixtures/subscriber/<group>/<name>/ is one fixture whose .c files are analysed together (one Project).
// Findings of severity 'hint' are not compared (a deliberate pattern may be pointed out, never required).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, basename } from 'node:path';
import { ROOT, listFiles, expectations, analyzeFiles, getParser } from '../helpers.mjs';

const dir = join(ROOT, 'test/fixtures/subscriber');

/** Every fixture: [name, files]; a plain .c file is one fixture, a directory below a group is one fixture. */
function fixtures() {
  const out = [];
  for (const group of readdirSync(dir).sort()) {
    const g = join(dir, group);
    if (!statSync(g).isDirectory()) continue;
    for (const e of readdirSync(g).sort()) {
      const p = join(g, e);
      if (statSync(p).isDirectory()) out.push([relative(dir, p) + '/', listFiles(p)]);
      else if (p.endsWith('.c')) out.push([relative(dir, p), [p]]);
    }
  }
  return out;
}

const key = (rule, file, line) => `${rule}@${basename(file)}:${line}`;

const all = fixtures();

test('subscriber fixtures are there', () => {
  assert.ok(all.length >= 15, `found ${all.length} fixtures`);
  for (const [name, files] of all) assert.ok(files.length >= 1, `${name} has C files`);
});

for (const [name, files] of all) {
  test(`subscriber fixture ${name}`, async () => {
    const expected = [];
    const suppressed = [];
    const versions = new Set();
    const parser = await getParser();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const parsed = parser.parse(text);
      const hasError = parsed.tree.rootNode.hasError;
      parsed.tree.delete();
      assert.equal(hasError, false, `${basename(f)} parses without syntax errors`);
      const exp = expectations(text);
      for (const e of exp.expected) {
        const [rule, line] = e.split('@');
        expected.push(key(rule, f, line));
      }
      for (const e of exp.suppressed) {
        const [rule, line] = e.split('@');
        suppressed.push(key(rule, f, line));
      }
      if (exp.version) versions.add(exp.version);
    }
    assert.equal(versions.size, 1, `${name}: exactly one kernel-version over its files (${[...versions].join(', ')})`);
    const [version] = versions;

    const r = await analyzeFiles(files, version);
    assert.deepEqual(r.errors, []);
    const shown = r.findings.filter((f) => f.severity !== 'hint');
    const got = shown.map((f) => key(f.rule, f.file, f.line)).sort();
    assert.deepEqual(got, expected.sort(), shown.map((f) => `${basename(f.file)}:${f.line}: [${f.rule}] ${f.message}`).join('\n'));
    assert.deepEqual(r.suppressed.map((f) => key(f.rule, f.file, f.line)).sort(), suppressed.sort());
    assert.deepEqual(r.incomplete, []);
    for (const f of r.findings) {
      assert.ok(f.path.length >= 1, 'witness path is non-empty');
      assert.equal(f.path[0].event, 'entry', 'witness path starts at an entry');
      for (const e of f.path) assert.ok(e.line >= 1 && e.column >= 1 && files.includes(e.file), `path event in a fixture file: ${e.file}:${e.line}`);
      assert.ok(files.includes(f.file));
      assert.ok(f.endLine > f.line || (f.endLine === f.line && f.endColumn > f.column));
    }
  });
}
