// Fuzz: seeded random mutations of the fixtures (deletions, duplications, brace and keyword noise) never make the engine throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine, getParser, listFiles, prng } from '../helpers.mjs';

const NOISE = ['{', '}', '(', ')', ';', 'goto out;', 'return;', 'break;', 'continue;', '#ifdef X\n', '#else\n', '#endif\n', '/*', '*/', '"', "'",
  'if (', 'else ', 'switch (x) { case 1:', 'out:', 'spin_lock(ptl);', 'spin_unlock(ptl);', 'mmu_notifier_invalidate_range_start(&range);',
  'mmu_notifier_invalidate_range_end(&range);', 'set_pte_at_notify(mm, a, p, e);', 'pte_unmap_unlock(p, ptl);', 'while (page_vma_mapped_walk(&pvmw))',
  '\\\n', '\u00e9', '\u{1F600}', '\0', 'list_for_each_entry(a, b, c) {', '__releases(ptl)', 'BUG();', '({', '})'];

test('fuzz: 600 seeded mutations of the fixtures never throw', async () => {
  const parser = await getParser();
  const files = listFiles(join(ROOT, 'test/fixtures'));
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  const rnd = prng(0xC0FFEE);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  let findings = 0;
  const project = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: engine.parseVersion('5.10', 'fuzz'), budgetMs: 2000 });
  for (let i = 0; i < 600; i++) {
    let t = pick(texts);
    const edits = 1 + Math.floor(rnd() * 6);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(rnd() * (t.length + 1));
      const op = rnd();
      if (op < 0.35) t = t.slice(0, at) + pick(NOISE) + t.slice(at);
      else if (op < 0.6) t = t.slice(0, at) + t.slice(Math.min(t.length, at + Math.floor(rnd() * 80)));
      else if (op < 0.8) {
        const len = Math.floor(rnd() * 200);
        t = t.slice(0, at) + t.slice(at, at + len) + t.slice(at);
      } else t = t.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 0x3000)) + t.slice(at);
    }
    // Alternate between fresh files and incremental edits of the same document.
    const name = i % 2 ? `/fuzz/${i}.c` : '/fuzz/same.c';
    project.setFile(name, t);
    const r = project.analyze([name]);
    findings += r.findings.length;
    for (const f of r.findings) assert.ok(f.line >= 1 && f.column >= 1 && Array.isArray(f.path));
    if (i % 2) project.removeFile(name);
  }
  project.dispose();
  assert.ok(findings > 0, 'mutants still produce findings');
});
