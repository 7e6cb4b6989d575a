// Quick-fixes on the historic shapes write what the upstream fix wrote: each test/fixtures/fixes/*.c (a shape written
// for the test) is fixed with the preferred, re-analysis-checked fix and compared with the golden *.fixed.txt, written
// from reading the upstream commit (6bdb913f0a70 for do_wp_page, write_protect_page and __replace_page; 2ec74c3 for the
// THP copy-on-write fallback, the THP splitting step, the execute-in-place unmap and the hugetlb copy-on-write).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine, getParser, listFiles } from '../helpers.mjs';

const require = createRequire(import.meta.url);
const srv = require(join(ROOT, 'dist/server.js'));

for (const file of listFiles(join(ROOT, 'test/fixtures/fixes'))) {
  test(`golden fix for ${file.slice(ROOT.length + 1)}`, async () => {
    const text = readFileSync(file, 'utf8');
    const version = engine.parseVersion(/kernel-version:\s*([\d.]+)/.exec(text)[1], 'fixture');
    const parser = await getParser();
    const p = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: version });
    p.setFile(file, text);
    const r = p.analyze();
    assert.ok(r.findings.length >= 1 && r.findings.length <= 2, r.findings.map((f) => f.message).join('\n'));
    // The preferred, checked fix of the first finding (one fix may clear both findings of a pair, as for hugetlb_cow).
    let fixed = text;
    for (let round = 0; round < 2; round++) {
      p.setFile(file, fixed);
      const left = p.analyze().findings;
      if (!left.length) break;
      const fixes = srv.fixesFor(fixed, left[0], srv.rangeApiForVersion(version), (nt, g) => p.checkRewrite(file, g.function, g.rule, nt).ok);
      assert.ok(!fixes[0].title.startsWith('Suppress'), `a rewriting fix is offered for ${left[0].rule}@${left[0].line}`);
      fixed = srv.applyEdits(fixed, fixes[0].edits);
    }
    assert.equal(fixed, readFileSync(file.replace(/\.c$/, '.fixed.txt'), 'utf8'));
    // The fixed file is clean for every rule, and every identifier the fix writes is declared in the function.
    const q = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: version });
    q.setFile(file, fixed);
    assert.deepEqual(q.analyze().findings.map((g) => `${g.rule}@${g.line}`), []);
    const added = fixed.split('\n').filter((l) => !text.includes(l)).join('\n').replace(/\/\*.*?\*\//g, '');
    for (const id of new Set(added.match(/(?<![.>\w])[A-Za-z_]\w*/g))) {
      if (/^(unsigned|long|bool|if|true|false|struct|H?PAGE(?:_PMD)?_MASK|H?PAGE(?:_PMD)?_SIZE|NULL|MMU_NOTIFY_CLEAR|mmu_notifier_\w+)$/.test(id)) continue;
      assert.ok(new RegExp(`\\b${id}\\b`).test(text) || new RegExp(`\\b(?:long|bool|struct \\w+)\\s+${id}\\b|,\\s*${id}\\s*[;=]`).test(fixed), `${id} is declared`);
    }
    q.dispose();
    p.dispose();
  });
}
