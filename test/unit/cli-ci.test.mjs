// A CLI that CI can trust (issue 9, section 3): every input that would make a run meaningless exits 2 with one clear
// stderr line, never a silent 0 (or a 1 that hides it): a bad --diff, an unknown rule in the config, a missing path,
// no C file, a named file that is not analysed, --output into a missing directory, an unknown --kernel-version.
// Skipped files are listed (JSON `skipped`, text summary); paths are printed as given or relative to the tree root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { ROOT, engine } from '../helpers.mjs';

const BIN = join(ROOT, 'bin/notifier-audit.js');
const FIX = join(ROOT, 'test/fixtures/rules');
const run = (args, opts = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60000, ...opts });
/** The stderr lines that say why a run failed. */
const errorLines = (r) => r.stderr.split('\n').filter((l) => l.startsWith('notifier-audit: error: '));
/** No crash: no "internal error", no stack trace. */
const noCrash = (r) => {
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at .*:\d+:\d+/, r.stderr);
};

/** A small kernel tree: Makefile 5.10, mm/lazy.c with one finding (merge_range_buggy, lines 34-50), mm/clean.c clean. */
function tree() {
  const dir = mkdtempSync(join(tmpdir(), 'na-ci-'));
  writeFileSync(join(dir, 'Makefile'), 'VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 0\nEXTRAVERSION =\n');
  mkdirSync(join(dir, 'mm'));
  copyFileSync(join(FIX, 'unbracketed-change-pte/lazy-start-in-loop.c'), join(dir, 'mm/lazy.c'));
  copyFileSync(join(FIX, 'unbracketed-change-pte/wp-page-2012-after.c'), join(dir, 'mm/clean.c'));
  writeFileSync(join(dir, 'README'), 'a kernel tree\n');
  return dir;
}

/** A one-line change inside merge_range_buggy() (line 38 of lazy.c), with the given ---/+++ paths. */
const patch = (from, to) =>
  `--- ${from}\n+++ ${to}\n@@ -37,3 +37,3 @@\n \tfor (addr = start; addr < end; addr += PAGE_SIZE) {\n-\t\tif (!notified && page_is_anon(kpage)) {\n+\t\tif (!notified && page_is_anon(kpage)) { \n \t\t\tmmu_notifier_invalidate_range_start(mm, start, end);\n`;

test('--diff: a garbage or empty diff exits 2 with one line, before any report', () => {
  const dir = tree();
  for (const [text, why] of [['this is not a patch\njust words\n', /--diff .* is not a unified diff/], ['', /--diff .* is empty/]]) {
    writeFileSync(join(dir, 'p.diff'), text);
    const r = run(['--diff', join(dir, 'p.diff'), join(dir, 'mm')]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '', 'no report');
    assert.equal(errorLines(r).length, 1, r.stderr);
    assert.match(errorLines(r)[0], why);
    noCrash(r);
  }
});

test('--diff: paths are stripped like git apply (-p1, then -p0, -p2...) and the matched files are named', () => {
  const dir = tree();
  // git's a/ b/ prefixes: -p1.
  const git = run(['--format', 'json', '--diff', '-', join(dir, 'mm')], { input: patch('a/mm/lazy.c', 'b/mm/lazy.c') });
  assert.equal(git.status, 1, git.stderr);
  assert.equal(JSON.parse(git.stdout).findings.length, 1);
  assert.match(git.stderr, /--diff on stdin \(-p1\): 1 of 1 file audited: mm\/lazy\.c/);
  assert.deepEqual(JSON.parse(git.stdout).diff, { strip: 1, matched: ['mm/lazy.c'], unmatched: [], deleted: [] });
  // `diff -u linux-old/ work/linux-new/` with timestamps: the new side has two leading directories (-p2).
  const deep = run(['--format', 'json', '--diff', '-', join(dir, 'mm')], { input: patch('linux-old/mm/lazy.c\t2024-01-01 00:00:00', 'work/linux-new/mm/lazy.c\t2024-01-02 00:00:00') });
  assert.equal(deep.status, 1, deep.stderr);
  assert.equal(JSON.parse(deep.stdout).findings.length, 1);
  assert.match(deep.stderr, /\(-p2\): 1 of 1 file audited: mm\/lazy\.c/);
  // Plain `diff -u lazy.c.orig lazy.c` run inside mm/: nothing to strip (-p0 after -p1 fails).
  const plain = run(['--format', 'json', '--diff', '-', join(dir, 'mm')], { input: patch('lazy.c.orig', 'lazy.c') });
  assert.equal(plain.status, 1, plain.stderr);
  assert.match(plain.stderr, /\(-p0\): 1 of 1 file audited: lazy\.c/);
  // Hunk bodies are read by their line counts: a removed "-- x" / added "++ y" line is not a ---/+++ file header.
  const tricky = '--- a/mm/lazy.c\n+++ b/mm/lazy.c\n@@ -37,3 +37,3 @@\n \tfor (addr = start; addr < end; addr += PAGE_SIZE) {\n--- x\n+++ y\n \t\t\tmmu_notifier_invalidate_range_start(mm, start, end);\n';
  const t = run(['--format', 'json', '--diff', '-', join(dir, 'mm')], { input: tricky });
  assert.equal(t.status, 1, t.stderr);
  assert.deepEqual(JSON.parse(t.stdout).diff, { strip: 1, matched: ['mm/lazy.c'], unmatched: [], deleted: [] });
  // Two files, one of them not scanned: said, and the run goes on.
  const two = run(['--diff', '-', join(dir, 'mm')], { input: patch('a/mm/lazy.c', 'b/mm/lazy.c') + patch('a/mm/gone.c', 'b/mm/gone.c') });
  assert.equal(two.status, 1, two.stderr);
  assert.match(two.stderr, /1 of 2 files audited: mm\/lazy\.c; not audited: mm\/gone\.c/);
});

test('--diff: a diff whose files are not among the scanned ones and do not exist exits 2 naming them', () => {
  const dir = tree();
  // Prefixes that do not resolve at any level: another file name, and another tree's layout.
  for (const [from, to] of [['a/mm/lazy2.c', 'b/mm/lazy2.c'], ['a/virt/kvm/lazy.c', 'b/virt/kvm/lazy.c']]) {
    const r = run(['--diff', '-', join(dir, 'mm')], { input: patch(from, to) });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(errorLines(r).length, 1, r.stderr);
    assert.match(errorLines(r)[0], /names no scanned file: .*lazy2?\.c is not found under .*\(tried -p1, -p0[,;]/);
    assert.ok(errorLines(r)[0].includes(to), errorLines(r)[0]);
  }
  // The old behaviour: a diff naming a file the run does not scan was a green run with 0 findings.
  const r = run(['--diff', '-', join(dir, 'mm/clean.c')], { input: patch('a/mm/other.c', 'b/mm/other.c') });
  assert.equal(r.status, 2, r.stdout + r.stderr);
});

test('--diff: a patch of real files outside the audit (not C) is said on stderr and finds nothing (exit 0)', () => {
  const dir = tree();
  const r = run(['--diff', '-', dir], { input: '--- a/README\n+++ b/README\n@@ -1 +1 @@\n-a kernel tree\n+a Linux tree\n' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /--diff on stdin: none of its 1 file is audited \(README: not C, excluded or outside .*\); nothing to check/);
  assert.match(r.stdout, /0 findings in 2 files/);
});

test('config: an unknown rule in enabledRules or severity, or no rule at all, exits 2 before any analysis', () => {
  const dir = tree();
  const target = join(dir, 'mm');
  const cases = [
    [{ enabledRules: ['notifier-under-ptl', 'unbracketed-change-pt'] }, /config .*: enabledRules: unknown rule "unbracketed-change-pt" \(did you mean "unbracketed-change-pte"\?\)/],
    [{ enabledRules: ['no-such-rule'] }, /enabledRules: unknown rule "no-such-rule"; rules are unbracketed-change-pte, notifier-under-ptl, range-imbalance/],
    [{ enabledRules: [] }, /enabledRules is empty: no rule would run/],
    [{ severity: { 'range-imbalanc': 'hint' } }, /severity: unknown rule "range-imbalanc" \(did you mean "range-imbalance"\?\)/],
    [{ severity: { 'notifier-under-ptl': 'fatal' } }, /severity of notifier-under-ptl must be error, warning, information or hint/],
  ];
  for (const [cfg, why] of cases) {
    const file = join(dir, 'audit.json');
    writeFileSync(file, JSON.stringify(cfg));
    const r = run(['--config', file, target]);
    assert.equal(r.status, 2, `${JSON.stringify(cfg)}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '', 'nothing analysed');
    assert.equal(errorLines(r).length, 1, r.stderr);
    assert.match(errorLines(r)[0], why);
  }
  // Known names still restrict the rules (the same file has a finding of the other rule only).
  writeFileSync(join(dir, 'ok.json'), JSON.stringify({ enabledRules: ['notifier-under-ptl'] }));
  assert.equal(run(['--config', join(dir, 'ok.json'), target]).status, 0);
});

test('settings: a misspelt rule, no rule, a bad level or an unknown kernel version are errors; other problems are warnings', () => {
  const cases = [
    [{ enabledRules: ['notifier-under-ptl', 'typo'] }, /^enabledRules: unknown rule "typo"/],
    [{ enabledRules: [] }, /^enabledRules is empty: no rule would run$/],
    [{ enabledRules: 'notifier-under-ptl' }, /^enabledRules must be an array of rule ids$/],
    [{ severity: { bogus: 'error' } }, /^severity: unknown rule "bogus"/],
    [{ severity: { 'range-imbalance': 'loud' } }, /^severity of range-imbalance must be error, warning, information or hint \(got "loud"\)$/],
    [{ kernelVersion: '99.99' }, /^kernelVersion: "99\.99" is not a Linux version this tool knows/],
    [{ kernelVersion: 'banana' }, /^kernelVersion: "banana" is not a kernel version/],
    [[], /^settings must be a JSON object$/],
  ];
  for (const [input, want] of cases) {
    const n = engine.normalizeSettings(input);
    assert.equal(n.errors.length, 1, JSON.stringify(n));
    assert.match(n.errors[0], want);
  }
  // The editor's messages keep their wording (and the editor keeps the known rules).
  const ed = engine.normalizeSettings({ enabledRules: ['notifier-under-ptl', 'nope'], kernelVersion: 'banana' });
  assert.deepEqual(ed.settings.enabledRules, ['notifier-under-ptl']);
  assert.ok(ed.problems.includes('unknown rule id(s) in enabledRules: nope'), JSON.stringify(ed.problems));
  assert.ok(ed.problems.some((p) => /^kernelVersion must look like "6\.1"/.test(p)), JSON.stringify(ed.problems));
  assert.equal(engine.normalizeSettings({ kernelVersion: '6.12' }).settings.kernelVersion, '6.12');
  // An unknown key or a malformed helper is a warning, not an error.
  const warn = engine.normalizeSettings({ colour: 'blue', lockHelpers: [{ name: 'bad name', lockArg: 1 }] });
  assert.equal(warn.problems.length, 2);
  assert.deepEqual(warn.errors, []);
  assert.deepEqual(engine.normalizeSettings({ enabledRules: ['range-imbalance', 'range-imbalance'] }).settings.enabledRules, ['range-imbalance']);
});

test('a path argument that does not exist exits 2 even when other files have findings', () => {
  const dir = tree();
  const r = run([join(dir, 'mm/lazy.c'), join(dir, 'mm/typo.c')]);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  // The other file is still audited and reported.
  assert.match(r.stdout, /lazy\.c:43:3: error: .*\[unbracketed-change-pte\]/);
  assert.match(r.stdout, /typo\.c: error: no such file or directory/);
  assert.deepEqual(errorLines(r), [`notifier-audit: error: ${join(dir, 'mm/typo.c')}: no such file or directory`]);
  const json = run(['--format', 'json', join(dir, 'mm'), join(dir, 'drivers')]);
  assert.equal(json.status, 2);
  assert.equal(JSON.parse(json.stdout).findings.length, 1);
  assert.ok(JSON.parse(json.stdout).errors.some((e) => e.file === join(dir, 'drivers') && /no such file/.test(e.message)));
  // Only missing paths: nothing to report, one line each.
  const none = run([join(dir, 'nope1.c'), join(dir, 'nope2')]);
  assert.equal(none.status, 2);
  assert.equal(none.stdout, '');
  assert.equal(errorLines(none).length, 2);
});

test('no C file found exits 2: an empty directory, a directory without .c/.h, one whose C files are all excluded', () => {
  const dir = tree();
  mkdirSync(join(dir, 'empty'));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs/notes.txt'), 'mmu_notifier_invalidate_range_start\n');
  writeFileSync(join(dir, 'docs/lazy.S'), 'mmu_notifier_invalidate_range_start\n');
  for (const d of ['empty', 'docs']) {
    const r = run([join(dir, d)]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.deepEqual(errorLines(r), [`notifier-audit: error: ${join(dir, d)}: no C file (.c or .h) found`]);
  }
  writeFileSync(join(dir, 'ex.json'), JSON.stringify({ exclude: ['mm/**'] }));
  const ex = run(['--config', join(dir, 'ex.json'), dir]);
  assert.equal(ex.status, 2, ex.stdout + ex.stderr);
  assert.match(errorLines(ex)[0], /no C file \(\.c or \.h\) found outside the exclude patterns/);
  // One empty directory next to a tree with findings: still 2, and the findings are reported.
  const mixed = run([join(dir, 'mm'), join(dir, 'empty')]);
  assert.equal(mixed.status, 2);
  assert.match(mixed.stdout, /1 finding in 2 files/);
});

test('binary and undecodable files inside a folder are listed in JSON skipped and counted in the text summary; the exit code does not change', () => {
  const dir = tree();
  writeFileSync(join(dir, 'mm/blob.c'), Buffer.concat([Buffer.from('mmu_notifier_invalidate_range_start'), Buffer.from([0, 1, 2, 255])]));
  writeFileSync(join(dir, 'mm/wide.c'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('void w(void) { mmu_notifier_invalidate_range_start(0, 0, 1); }\n', 'utf16le')]));
  writeFileSync(join(dir, 'mm/cafe.c'), Buffer.from('/* caf\xe9 */\nvoid c(struct mm_struct *mm) { mmu_notifier_invalidate_range_start(mm, 0, 1); }\n', 'latin1'));
  const j = run(['--format', 'json', join(dir, 'mm')]);
  assert.equal(j.status, 1, 'the finding decides; skipped files in a folder do not');
  const out = JSON.parse(j.stdout);
  const skipped = Object.fromEntries(out.skipped.map((s) => [s.file.slice(dir.length + 1), s.reason]));
  assert.deepEqual(skipped, { 'mm/blob.c': 'binary', 'mm/wide.c': 'undecodable' });
  for (const s of out.skipped) assert.match(s.message, /^not analysed: /);
  // A Latin-1 file is analysed (with a note), not skipped.
  assert.ok(out.errors.some((e) => e.file.endsWith('cafe.c') && /analysed as Latin-1/.test(e.message)));
  const t = run([join(dir, 'mm')]);
  assert.equal(t.status, 1);
  assert.match(t.stdout, /1 finding in 5 files \(kernel [^)]*\)\); 2 files skipped \(1 binary, 1 not decoded\)\n$/);
  assert.match(t.stdout, /blob\.c: warning: not analysed: binary file/);
  assert.match(t.stdout, /wide\.c: warning: not analysed: UTF-16LE text/);
  // A clean folder with a skipped file stays 0.
  const clean = mkdtempSync(join(tmpdir(), 'na-ci-clean-'));
  copyFileSync(join(dir, 'mm/clean.c'), join(clean, 'clean.c'));
  copyFileSync(join(dir, 'mm/blob.c'), join(clean, 'blob.c'));
  const c = run([clean]);
  assert.equal(c.status, 0, c.stdout + c.stderr);
  assert.match(c.stdout, /0 findings in 2 files .*; 1 file skipped \(1 binary\)/);
});

test('an explicitly named file that is not analysed (too big, binary, UTF-16) exits 2, listed in skipped', () => {
  const dir = tree();
  writeFileSync(join(dir, 'blob.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]));
  writeFileSync(join(dir, 'wide.c'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('int x;\n', 'utf16le')]));
  // Bigger than 2000 bytes (lazy.c is 1584): not analysed under maxFileSize 2000, even though it mentions no notifier.
  writeFileSync(join(dir, 'mm/big.c'), `/* ${'x'.repeat(3000)} */\nint big;\n`);
  writeFileSync(join(dir, 'small.json'), JSON.stringify({ maxFileSize: 2000 }));
  const cases = [
    [[join(dir, 'blob.c')], /blob\.c: not analysed: binary file/, 'binary'],
    [[join(dir, 'wide.c')], /wide\.c: not analysed: UTF-16LE text/, 'undecodable'],
    [['--config', join(dir, 'small.json'), join(dir, 'mm/big.c')], /big\.c: not analysed: \d+ bytes is over the maximum file size of 2000 bytes/, 'too-big'],
  ];
  for (const [args, why, reason] of cases) {
    // Next to a file with a finding: 2, not 1.
    const r = run(['--format', 'json', ...args, join(dir, 'mm/lazy.c')]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.findings.length, 1);
    assert.deepEqual(j.skipped.map((s) => s.reason), [reason]);
    assert.equal(errorLines(r).length, 1, r.stderr);
    assert.match(errorLines(r)[0], why);
  }
  // A too-big file that mentions a notifier inside a scanned folder: listed, not an error (no finding: 0).
  const folder = mkdtempSync(join(tmpdir(), 'na-ci-big-'));
  copyFileSync(join(dir, 'mm/clean.c'), join(folder, 'clean.c'));
  writeFileSync(join(folder, 'big.c'), `/* ${'x'.repeat(3000)} */\nvoid b(void) { mmu_notifier_invalidate_range_start(0, 0, 1); }\n`);
  const f = run(['--format', 'json', '--config', join(dir, 'small.json'), folder]);
  assert.equal(f.status, 0, f.stderr);
  assert.deepEqual(JSON.parse(f.stdout).skipped.map((s) => [s.file, s.reason]), [[join(folder, 'big.c'), 'too-big']]);
});

test('--output into a missing directory (or onto a directory) is one clean line and exit 2, before the analysis', () => {
  const dir = tree();
  for (const [out, why] of [[join(dir, 'no/such/dir/report.json'), /cannot write the report to .*report\.json: directory .*dir does not exist/], [join(dir, 'mm'), /cannot write the report to .*mm: it is a directory/]]) {
    const r = run(['--format', 'json', '--output', out, join(dir, 'mm')]);
    assert.equal(r.status, 2, r.stderr);
    noCrash(r);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, why);
  }
  assert.ok(!existsSync(join(dir, 'no')));
  const ok = run(['--format', 'json', '--output', join(dir, 'report.json'), join(dir, 'mm')]);
  assert.equal(ok.status, 1, ok.stderr);
  assert.ok(existsSync(join(dir, 'report.json')));
});

test('--kernel-version accepts 2.6 to 6.x and rejects anything else; so does the config kernelVersion', () => {
  const file = join(FIX, 'unbracketed-change-pte/wp-page-2012-after.c');
  for (const v of ['99.99', '7.0', '2.4', '3.20', '4.21', '5.20', '6.30', '1.0', 'garbage', '6', '6.1.999']) {
    const r = run(['--kernel-version', v, file]);
    assert.equal(r.status, 2, `${v}: ${r.stdout}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`--kernel-version: "${v.replace(/\./g, '\\.')}" is not a`));
  }
  for (const v of ['2.6', '2.6.32', '3.0', '3.19', '4.20', 'v5.10', '6.1', '6.12', '6.29']) {
    const r = run(['--format', 'json', '--kernel-version', v, file]);
    assert.equal(r.status, 0, `${v}: ${r.stderr}`);
    assert.match(JSON.parse(r.stdout).kernelVersion, new RegExp(`^${v.replace(/^v/, '').replace(/\./g, '\\.')} \\(option\\)`));
  }
  const dir = mkdtempSync(join(tmpdir(), 'na-ci-kv-'));
  writeFileSync(join(dir, 'kv.json'), JSON.stringify({ kernelVersion: '99.99' }));
  const cfg = run(['--config', join(dir, 'kv.json'), file]);
  assert.equal(cfg.status, 2);
  assert.match(errorLines(cfg)[0], /config .*kv\.json: kernelVersion: "99\.99" is not a Linux version this tool knows \(2\.6, 3\.0-3\.19, 4\.0-4\.20, 5\.0-5\.19 or 6\.0-6\.29\)/);
});

test('paths are printed as given or relative to the tree root, never ../.. from the current directory', () => {
  const dir = tree();
  const cwd = mkdtempSync(join(tmpdir(), 'na-ci-cwd-'));
  // An absolute argument prints absolute paths (the old output was ../na-ci-.../mm/lazy.c).
  const abs = run([join(dir, 'mm')], { cwd });
  assert.equal(abs.status, 1);
  assert.doesNotMatch(abs.stdout, /\.\.\//);
  assert.ok(abs.stdout.startsWith(`${join(dir, 'mm/lazy.c')}:43:3: error: `), abs.stdout);
  assert.ok(abs.stdout.includes(`    ${join(dir, 'mm/lazy.c')}:42:10: note: `), abs.stdout);
  // Relative arguments print as written (./ dropped), from the tree and from inside mm/.
  const rel = run(['./mm/'], { cwd: dir });
  assert.ok(rel.stdout.startsWith(`mm${sep}lazy.c:43:3: error: `), rel.stdout);
  const here = run(['.'], { cwd: join(dir, 'mm') });
  assert.ok(here.stdout.startsWith('lazy.c:43:3: error: '), here.stdout);
  const file = run(['lazy.c'], { cwd: join(dir, 'mm') });
  assert.ok(file.stdout.startsWith('lazy.c:43:3: error: '), file.stdout);
  // SARIF: URIs relative to the tree root (the Makefile's directory), declared as SRCROOT; never ../
  const sarif = JSON.parse(run(['--format', 'sarif', join(dir, 'mm')], { cwd }).stdout);
  const runObj = sarif.runs[0];
  assert.equal(runObj.originalUriBaseIds.SRCROOT.uri, `file://${dir}/`);
  const loc = runObj.results[0].locations[0].physicalLocation.artifactLocation;
  assert.deepEqual(loc, { uri: 'mm/lazy.c', uriBaseId: 'SRCROOT' });
  assert.doesNotMatch(JSON.stringify(runObj.results), /"uri":"\.\./);
});
