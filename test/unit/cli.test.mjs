// The notifier-audit CLI end to end: exit codes, output formats, --diff, --config, --kernel-version, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const BIN = join(ROOT, 'bin/notifier-audit.js');
const FIX = join(ROOT, 'test/fixtures/rules');
const run = (args, opts = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60000, ...opts });

test('clean file exits 0, findings exit 1, text names rule and function', () => {
  const clean = run([join(FIX, 'unbracketed-change-pte/wp-page-2012-after.c')]);
  assert.equal(clean.status, 0, clean.stderr);
  assert.match(clean.stdout, /0 findings in 1 file/);
  const bad = run([join(FIX, 'unbracketed-change-pte/wp-page-2012-before.c')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /wp-page-2012-before\.c:21:3: error: .*\[unbracketed-change-pte\] in do_wp_page_copy\(\)/);
  assert.match(bad.stdout, /note: page-table lock ptl taken here/);
});

test('usage errors exit 2 with a message', () => {
  for (const args of [[], ['--format', 'xml', 'x.c'], ['--kernel-version', 'six', 'x.c'], ['--bogus', 'x.c'], ['--jobs', '0', 'x.c']]) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /notifier-audit: /);
  }
  const missing = run(['/nonexistent/path.c']);
  assert.equal(missing.status, 2);
  assert.match(missing.stdout + missing.stderr, /no such file or directory/);
});

test('JSON output has the documented shape and witness paths', () => {
  const r = run(['--format', 'json', join(FIX, 'notifier-under-ptl')]);
  assert.equal(r.status, 1);
  const j = JSON.parse(r.stdout);
  for (const k of ['tool', 'version', 'kernelVersion', 'filesScanned', 'findings', 'suppressed', 'incomplete']) assert.ok(k in j, k);
  assert.equal(j.tool, 'notifier-audit');
  assert.ok(j.findings.length >= 8);
  for (const f of j.findings) {
    for (const k of ['rule', 'severity', 'file', 'line', 'column', 'endLine', 'endColumn', 'function', 'message', 'related', 'path']) assert.ok(k in f, k);
    for (const e of f.path) for (const k of ['file', 'line', 'column', 'event']) assert.ok(k in e, k);
    assert.ok(f.path.some((e) => e.event === 'lock'), 'a lock event on the path');
  }
  assert.equal(j.suppressed.length, 1);
  assert.match(j.suppressed[0].suppressedReason, /non-blockable/);
});

test('SARIF 2.1.0 output with rules, results, code flows and in-source suppressions', () => {
  const r = run(['--format', 'sarif', join(FIX, 'notifier-under-ptl')]);
  const s = JSON.parse(r.stdout);
  assert.equal(s.version, '2.1.0');
  const runObj = s.runs[0];
  assert.deepEqual(runObj.tool.driver.rules.map((x) => x.id), ['unbracketed-change-pte', 'notifier-under-ptl', 'range-imbalance', 'nonblocking-invalidate-sleeps', 'atomic-callback-sleeps', 'interval-sequence', 'register-under-mmap-lock']);
  assert.ok(runObj.results.length >= 9);
  for (const res of runObj.results) {
    assert.ok(['error', 'warning', 'note'].includes(res.level));
    const loc = res.locations[0].physicalLocation;
    assert.ok(loc.artifactLocation.uri && !loc.artifactLocation.uri.startsWith('/'), 'relative URI');
    assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1);
    assert.ok(res.codeFlows[0].threadFlows[0].locations.length >= 2);
  }
  assert.equal(runObj.results.filter((x) => x.suppressions).length, 1);
});

test('--kernel-version changes the semantics and is reported', () => {
  const f = join(FIX, 'notifier-under-ptl/clear-flush-notify-v3.10.c');
  const old = run(['--format', 'json', '--kernel-version', '3.10', f]);
  assert.equal(JSON.parse(old.stdout).findings.length, 1);
  assert.match(JSON.parse(old.stdout).kernelVersion, /^3\.10 \(option\)/);
  const newer = run(['--format', 'json', '--kernel-version', '4.14', f]);
  assert.equal(JSON.parse(newer.stdout).findings.length, 0);
  const unknown = run(['--format', 'json', f]);
  assert.match(JSON.parse(unknown.stdout).kernelVersion, /unknown \(v3\.7 to v6\.9 semantics\)/);
});

test('the kernel version and *_notify macros come from the audited tree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-tree-'));
  writeFileSync(join(dir, 'Makefile'), 'VERSION = 3\nPATCHLEVEL = 12\nSUBLEVEL = 5\nEXTRAVERSION =\n');
  mkdirSync(join(dir, 'include/linux'), { recursive: true });
  mkdirSync(join(dir, 'mm'));
  // A tree whose header makes my_flush_notify() expand to a sleeping invalidate_page.
  writeFileSync(join(dir, 'include/linux/mmu_notifier.h'), '#define my_flush_notify(__vma, __address, __ptep)\t\t\\\n({\t\t\t\t\t\t\t\\\n\tptep_clear_flush(__vma, __address, __ptep);\t\t\\\n\tmmu_notifier_invalidate_page(__vma->vm_mm, __address);\t\\\n})\n');
  writeFileSync(join(dir, 'mm/x.c'), 'static void f(struct vm_area_struct *vma, pmd_t *pmd, unsigned long a)\n{\n\tspinlock_t *ptl;\n\tpte_t *pte = pte_offset_map_lock(vma->vm_mm, pmd, a, &ptl);\n\tmy_flush_notify(vma, a, pte);\n\tpte_unmap_unlock(pte, ptl);\n}\n');
  const r = run(['--format', 'json', join(dir, 'mm')]);
  const j = JSON.parse(r.stdout);
  assert.match(j.kernelVersion, /^3\.12\.5 \(Makefile /);
  assert.equal(j.findings.length, 1, r.stdout);
  assert.equal(j.findings[0].rule, 'notifier-under-ptl');
  assert.match(j.findings[0].message, /mmu_notifier_invalidate_page/);
});

test('--config adds lock helpers and notifier names; bad config values are reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-cfg-'));
  const c = join(dir, 'drv.c');
  writeFileSync(c, 'static void f(struct my_dev *d)\n{\n\tmy_lock_pt(d, &d->ptl);\n\tmy_dev_invalidate_start(d);\n\tmy_unlock_pt(d, d->ptl);\n}\n');
  const cfg = join(dir, 'audit.json');
  writeFileSync(cfg, JSON.stringify({
    lockHelpers: [{ name: 'my_lock_pt', lockArg: 1, returns: 'always' }, { name: 'bad name', lockArg: 1 }],
    unlockHelpers: [{ name: 'my_unlock_pt', lockArg: 1 }],
    notifiers: [{ name: 'my_dev_invalidate_start', maySleep: true, role: 'range_start' }],
    enabledRules: ['notifier-under-ptl'],
    severity: { 'notifier-under-ptl': 'warning' },
    colour: 'blue',
  }));
  const r = run(['--format', 'json', '--config', cfg, c]);
  const j = JSON.parse(r.stdout);
  assert.equal(j.findings.length, 1, r.stdout);
  assert.equal(j.findings[0].severity, 'warning');
  assert.match(r.stderr, /lockHelpers\[1\] is malformed/);
  assert.match(r.stderr, /unknown setting "colour"/);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ not json');
  const rb = run(['--config', broken, c]);
  assert.equal(rb.status, 2);
  assert.match(rb.stderr, /cannot read config/);
});

test('--diff keeps only findings in functions the patch touches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-diff-'));
  const f = join(dir, 'lazy.c');
  copyFileSync(join(FIX, 'unbracketed-change-pte/lazy-start-in-loop.c'), f);
  const all = JSON.parse(run(['--format', 'json', f]).stdout);
  assert.equal(all.findings.length, 1);
  // A patch touching only merge_range (lines 13-20): the finding in merge_range_buggy is not reported.
  const patch1 = '--- a/lazy.c\n+++ b/lazy.c\n@@ -14,3 +14,3 @@\n \t\tif (!page_wants_merge(vma, addr))\n-\t\t\tcontinue;\n+\t\t\tcontinue; \n \t\tif (!notified) {\n';
  writeFileSync(join(dir, 'p1.diff'), patch1);
  assert.equal(JSON.parse(run(['--format', 'json', '--diff', join(dir, 'p1.diff'), f]).stdout).findings.length, 0);
  const patch2 = '--- a/lazy.c\n+++ b/lazy.c\n@@ -38,3 +38,3 @@\n \tfor (addr = start; addr < end; addr += PAGE_SIZE) {\n-\t\tif (!notified && page_is_anon(kpage)) {\n+\t\tif (!notified && page_is_anon(kpage)) { \n \t\t\tmmu_notifier_invalidate_range_start(mm, start, end);\n';
  const r2 = run(['--format', 'json', '--diff', '-', f], { input: patch2 });
  assert.equal(JSON.parse(r2.stdout).findings.length, 1);
});

test('bad input: binary, non-UTF-8, oversized, dangling, deep nesting, broken C, unterminated comment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-bad-'));
  writeFileSync(join(dir, 'binary.c'), Buffer.concat([Buffer.from('mmu_notifier_invalidate_range_start'), Buffer.from([0, 1, 2, 255])]));
  writeFileSync(join(dir, 'latin1.c'), Buffer.from('/* caf\xe9 */\nvoid l(struct mm_struct *mm, pmd_t *pmd)\n{\n\tspinlock_t *ptl;\n\tpte_t *p = pte_offset_map_lock(mm, pmd, 0, &ptl);\n\tmmu_notifier_invalidate_range_start(mm, 0, 1);\n\tpte_unmap_unlock(p, ptl);\n}\n', 'latin1'));
  writeFileSync(join(dir, 'huge.c'), 'int x;\n'.repeat(800000) + 'void f(void) { mmu_notifier_invalidate_range_start(0, 0, 1); }\n');
  symlinkSync('/nonexistent-target', join(dir, 'dangling.c'));
  const d = 10000;
  writeFileSync(join(dir, 'deep.c'), `void g(struct mm_struct *mm){ spinlock_t *ptl; pte_offset_map_lock(mm, 0, 0, &ptl);\n${'if (x) {'.repeat(d)} mmu_notifier_invalidate_range_start(mm,0,1); ${'}'.repeat(d)} }\n`);
  writeFileSync(join(dir, 'broken.c'), 'void b(struct mm_struct *mm { if ( { mmu_notifier_invalidate_range_start(mm,0,1); ))) }}} ;; int\n');
  writeFileSync(join(dir, 'unterminated.c'), 'void u(struct mm_struct *mm){ mmu_notifier_invalidate_range_start(mm,0,1); /* never closed\n');
  const r = run(['--format', 'json', '--config', '/dev/null', dir]);
  // /dev/null is not JSON: usage error, nothing scanned.
  assert.equal(r.status, 2);
  const t0 = Date.now();
  const ok = run(['--format', 'json', dir]);
  assert.ok(Date.now() - t0 < 60000);
  const j = JSON.parse(ok.stdout);
  const msg = (name) => j.errors.filter((e) => e.file.endsWith(name)).map((e) => e.message).join(' | ');
  assert.match(msg('binary.c'), /binary file/);
  assert.match(msg('latin1.c'), /not valid UTF-8/);
  assert.match(msg('huge.c'), /over the maximum file size/);
  assert.match(msg('dangling.c'), /cannot read/);
  assert.ok(j.incomplete.some((i) => i.file.endsWith('deep.c') && /nested deeper/.test(i.reason)), JSON.stringify(j.incomplete));
  assert.ok(j.findings.some((f) => f.file.endsWith('latin1.c') && f.rule === 'notifier-under-ptl'), 'the Latin-1 file is still analysed');
  assert.equal(ok.status, 1);
});

test('help, version and rules subcommands', () => {
  assert.match(run(['--help']).stdout, /usage: notifier-audit/);
  assert.match(run(['--version']).stdout, /notifier-audit \d+\.\d+\.\d+/);
  const rules = run(['rules']).stdout;
  for (const id of ['unbracketed-change-pte', 'notifier-under-ptl', 'range-imbalance', 'nonblocking-invalidate-sleeps', 'atomic-callback-sleeps', 'interval-sequence', 'register-under-mmap-lock']) assert.match(rules, new RegExp(id));
  assert.match(rules, /6bdb913f0a70/);
});

test('examples: the README command audits the bundled examples', () => {
  const r = run([join(ROOT, 'examples')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /wp-page-unbracketed\.c:\d+:\d+: error: .*unbracketed-change-pte/);
  assert.doesNotMatch(r.stdout, /wp-page-bracketed\.c:\d+/);
  void readFileSync;
});
