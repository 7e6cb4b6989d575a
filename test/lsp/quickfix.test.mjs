// Quick-fixes on every fixture: the fix re-analyses clean for its rule and parses with no more tree-sitter errors than before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine, getParser, listFiles, expectations } from '../helpers.mjs';

const require = createRequire(import.meta.url);
const srv = require(join(ROOT, 'dist/server.js'));

const FIXTURES = [...listFiles(join(ROOT, 'test/fixtures/rules')), ...listFiles(join(ROOT, 'test/lsp/fixtures'))];

function errorCount(node) {
  let n = node.isError || node.isMissing ? 1 : 0;
  for (const c of node.children) n += errorCount(c);
  return n;
}

async function analyze(file, text, version) {
  const parser = await getParser();
  const p = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: version ? engine.parseVersion(version, 'test') : null });
  p.setFile(file, text);
  const r = p.analyze();
  const errs = errorCount(p.parsedFile(file).tree.rootNode);
  p.dispose();
  return { ...r, parseErrors: errs };
}

/** Versions to try the insert-range fix in: the fixture's own and one per API generation. */
const VERSIONS = ['4.4', '4.20', '5.10', '6.5', null];

for (const file of FIXTURES) {
  const text = readFileSync(file, 'utf8');
  const exp = expectations(text);
  test(`quick-fixes on ${file.slice(ROOT.length + 1)}`, async () => {
    const before = await analyze(file, text, exp.version);
    const withFix = before.findings.filter((f) => f.fix);
    for (const f of before.findings) {
      const versions = f.fix?.kind === 'insert-range' ? [exp.version, ...VERSIONS.filter((v) => v !== exp.version)] : [exp.version];
      for (const v of versions) {
        const api = srv.chooseRangeApi(v ? engine.parseVersion(v, 'test') : null);
        const fixes = srv.fixesFor(text, f, api);
        // The suppression is always offered; it moves the finding to the suppressed list.
        const sup = fixes.find((x) => x.title.startsWith('Suppress'));
        assert.ok(sup, 'a suppression fix is offered');
        const supText = srv.applyEdits(text, sup.edits);
        const afterSup = await analyze(file, supText, exp.version);
        assert.ok(!afterSup.findings.some((g) => g.rule === f.rule && g.function === f.function && g.line === f.line + 1), 'suppressed finding is gone');
        assert.ok(afterSup.suppressed.some((g) => g.rule === f.rule), 'finding is listed as suppressed');
        const real = fixes.filter((x) => x !== sup);
        if (!f.fix) continue;
        // Insert-range is offered for every unbracketed change (not for a range left open: that is a missing end);
        // move-out-of-lock only when one move keeps the bracket (not when the lock is held on entry or taken by a loop walk).
        if (f.fix.kind === 'insert-range' && !/leaves open/.test(f.message)) assert.ok(real.length, `a fix is offered for ${f.rule}@${f.line}`);
        if (!real.length) continue;
        const count = (r) => r.findings.filter((g) => g.rule === f.rule && g.function === f.function).length;
        const fixed = srv.applyEdits(text, real[0].edits);
        const after = await analyze(file, fixed, v ?? exp.version);
        assert.ok(count(after) < count(before), `fix "${real[0].title}" (kernel ${v}) does not remove the finding:\n${fixed}`);
        assert.ok(after.parseErrors <= before.parseErrors, `fix adds parse errors (${before.parseErrors} -> ${after.parseErrors}):\n${fixed}`);
        // Applying the first fix again and again (what a user does) ends with the function clean for the rule.
        let cur = fixed;
        let res = after;
        for (let i = 0; i < 6 && count(res); i++) {
          const g = res.findings.find((x) => x.rule === f.rule && x.function === f.function);
          const next = srv.fixesFor(cur, g, api).filter((x) => !x.title.startsWith('Suppress'))[0];
          if (!next) break;
          cur = srv.applyEdits(cur, next.edits);
          res = await analyze(file, cur, v ?? exp.version);
          assert.ok(res.parseErrors <= before.parseErrors, `fix adds parse errors:\n${cur}`);
        }
        const left = res.findings.filter((g) => g.rule === f.rule && g.function === f.function);
        const fixable = left.filter((g) => srv.fixesFor(cur, g, api).some((x) => !x.title.startsWith('Suppress')));
        assert.deepEqual(fixable.map((g) => `${g.rule}@${g.line}: ${g.message}`), [], `after all fixes (kernel ${v}):\n${cur}`);
        assert.deepEqual(after.errors, []);
      }
    }
    if (exp.expected.length) assert.ok(withFix.length || before.findings.length, 'fixture has findings');
  });
}

test('range wrappers follow the kernel version', () => {
  const v = (s) => engine.parseVersion(s, 'test');
  assert.equal(srv.rangeApiForVersion(v('4.19')).style, 'mmun');
  assert.deepEqual(srv.rangeApiForVersion(v('4.20')).initParams, ['range', 'mm', 'start', 'end']);
  assert.deepEqual(srv.rangeApiForVersion(v('5.1')).initParams, ['range', 'mm', 'start', 'end']);
  assert.deepEqual(srv.rangeApiForVersion(v('5.2')).initParams, ['range', 'event', 'flags', 'vma', 'mm', 'start', 'end']);
  assert.deepEqual(srv.rangeApiForVersion(v('6.2')).initParams, ['range', 'event', 'flags', 'vma', 'mm', 'start', 'end']);
  assert.deepEqual(srv.rangeApiForVersion(v('6.3')).initParams, ['range', 'event', 'flags', 'mm', 'start', 'end']);
});

test('the tree\'s own mmu_notifier.h decides the init argument list', () => {
  const h63 = `static inline void mmu_notifier_range_init(struct mmu_notifier_range *range,\n\t\tenum mmu_notifier_event event, unsigned flags,\n\t\tstruct mm_struct *mm, unsigned long start, unsigned long end)\n{ }`;
  assert.deepEqual(srv.rangeApiFromHeader(h63).initParams, ['range', 'event', 'flags', 'mm', 'start', 'end']);
  const h420 = `#define mmu_notifier_range_init(range, mm, start, end) _mmu_notifier_range_init(range, start, end)`;
  assert.deepEqual(srv.rangeApiFromHeader(h420).initParams, ['range', 'mm', 'start', 'end']);
  assert.equal(srv.rangeApiFromHeader('extern void __mmu_notifier_invalidate_range_start(struct mm_struct *mm,\n unsigned long start, unsigned long end);\nstatic inline void mmu_notifier_invalidate_range_start(struct mm_struct *mm, unsigned long start, unsigned long end)').style, 'mmun');
  for (const dir of ['.cache/linux-6.1', '.cache/linux-source-6.1']) {
    const real = join(ROOT, dir, 'include/linux/mmu_notifier.h');
    if (!existsSync(real)) continue;
    assert.deepEqual(srv.rangeApiFromHeader(readFileSync(real, 'utf8')).initParams, ['range', 'event', 'flags', 'vma', 'mm', 'start', 'end']);
  }
  // A header-derived list wins over the version table (a 6.1 tree that backported the 6.3 signature).
  assert.deepEqual(srv.chooseRangeApi(engine.parseVersion('6.1', 't'), h63).initParams, ['range', 'event', 'flags', 'mm', 'start', 'end']);
});

test('goto cleanup chains get one end at a common label, as in the 2012 patch', async () => {
  const file = join(ROOT, 'test/lsp/fixtures/ksm-goto-exits.c');
  const text = readFileSync(file, 'utf8');
  const r = await analyze(file, text, '4.4');
  const fix = srv.fixesFor(text, r.findings[0], srv.chooseRangeApi(engine.parseVersion('4.4', 't')))[0];
  const out = srv.applyEdits(text, fix.edits);
  assert.match(out, /\t\tpte_unmap_unlock\(ptep, ptl\);\n\t\tgoto out_mn;\n/);
  assert.match(out, /\terr = 0;\nout_mn:\n\tmmu_notifier_invalidate_range_end\(mm, mmun_start, mmun_end\);\nout:\n/);
  assert.match(out, /\tmmun_start = addr & PAGE_MASK;\n\tmmun_end = mmun_start \+ PAGE_SIZE;\n\tmmu_notifier_invalidate_range_start\(mm, mmun_start, mmun_end\);\n\n?\tptep = pte_offset_map_lock/);
  assert.match(out, /\tint err = -EFAULT;\n\tunsigned long mmun_start, mmun_end;\n/);
});
