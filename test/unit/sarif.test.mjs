// SARIF for code scanning: the file validates with the SARIF multitool (SARIF and GitHub rules: 0 errors, 0
// warnings), rules carry full metadata, URIs are relative to SRCROOT, and partialFingerprints survive line moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers.mjs';

const require = createRequire(import.meta.url);
const BIN = join(ROOT, 'bin/notifier-audit.js');
const FIX = join(ROOT, 'test/fixtures/rules');
const run = (args, opts = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60000, ...opts });
const sarifOf = (r) => {
  assert.equal(r.status, 1, r.stderr);
  return JSON.parse(r.stdout);
};

/**
 * The multitool's self-contained Linux x64 binary, from the platform package that @microsoft/sarif-multitool pulls
 * in as an optional dependency (the package's own bin.js runs it through a shell, which splits ";" lists).
 */
function multitool() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { skip: `the multitool's Linux binary is x64 only (here ${process.platform}-${process.arch})` };
  const exe = require(require.resolve('@microsoft/sarif-multitool-linux', { paths: [ROOT] }));
  try {
    accessSync(exe, constants.X_OK);
  } catch {
    // What the package's postinstall does (npm may be set not to run install scripts).
    chmodSync(exe, statSync(exe).mode | 0o100);
  }
  return { exe };
}

const tool = multitool();

test('SARIF validates with sarif-multitool (SARIF and GitHub rules): 0 errors, 0 warnings', { skip: tool.skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-sarif-'));
  try {
    // All three rules, a suppressed finding, code flows, related locations.
    const input = join(dir, 'audit.sarif');
    const r = run(['--format', 'sarif', '--output', input, ...['unbracketed-change-pte', 'notifier-under-ptl', 'range-imbalance'].map((d) => join(FIX, d))], { cwd: ROOT });
    assert.equal(r.status, 1, r.stderr);
    const sarif = JSON.parse(readFileSync(input, 'utf8'));
    assert.ok(sarif.runs[0].results.length >= 30);
    assert.ok(new Set(sarif.runs[0].results.map((x) => x.ruleId)).size === 3);
    const out = join(dir, 'validation.sarif');
    const v = spawnSync(tool.exe, ['validate', input, '--output', out, '--log', 'ForceOverwrite', '--rule-kind', 'Sarif;Gh', '--level', 'Error;Warning;Note'], {
      encoding: 'utf8',
      timeout: 120000,
      // No libicu needed; no telemetry.
      env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
    });
    assert.equal(v.status, 0, `sarif-multitool validate: ${v.error ?? ''}\n${v.stdout}\n${v.stderr}`);
    const results = JSON.parse(readFileSync(out, 'utf8')).runs[0].results ?? [];
    const bad = results.filter((x) => x.level === 'error' || x.level === 'warning' || x.level === undefined);
    assert.deepEqual(
      bad.map((x) => `${x.level ?? 'warning'} ${x.ruleId}: ${x.message?.arguments?.join(' | ') ?? x.message?.text ?? ''}`),
      [],
      v.stdout,
    );
    // The validator did run its rules: the advisory notes (e.g. SARIF2002 message strings) are there.
    assert.ok(results.some((x) => x.level === 'note'), 'the validator reported no note at all: did it run?');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SARIF maps onto the tree: SRCROOT, relative URIs, rule metadata, invocation', () => {
  const s = sarifOf(run(['--format', 'sarif', join(FIX, 'notifier-under-ptl')], { cwd: ROOT }));
  const runObj = s.runs[0];
  assert.equal(runObj.originalUriBaseIds.SRCROOT.uri, pathToFileURL(ROOT).href.replace(/\/?$/, '/'));
  for (const res of runObj.results) {
    const a = res.locations[0].physicalLocation.artifactLocation;
    assert.equal(a.uriBaseId, 'SRCROOT');
    assert.match(a.uri, /^test\/fixtures\/rules\/notifier-under-ptl\/[^/]+\.c$/);
    assert.equal(runObj.tool.driver.rules[res.ruleIndex].id, res.ruleId);
    assert.match(res.partialFingerprints.primaryLocationLineHash, /^[0-9a-f]{16}:\d+$/);
    assert.match(res.partialFingerprints['notifierAudit/v1'], /^[0-9a-f]{64}$/);
    const steps = res.codeFlows[0].threadFlows[0].locations;
    assert.ok(steps.length >= 2 && steps.every((l) => l.location.physicalLocation.region.startLine >= 1));
  }
  const { rules } = runObj.tool.driver;
  assert.deepEqual(rules.map((x) => x.id), ['unbracketed-change-pte', 'notifier-under-ptl', 'range-imbalance', 'nonblocking-invalidate-sleeps', 'atomic-callback-sleeps', 'interval-sequence', 'register-under-mmap-lock']);
  for (const rule of rules) {
    assert.match(rule.name, /^[A-Z][A-Za-z]+$/);
    assert.ok(rule.shortDescription.text && rule.fullDescription.text.length > rule.shortDescription.text.length);
    assert.match(rule.help.text, /Introduced by: .*\n\nLimits: /s);
    assert.ok(rule.help.markdown.startsWith(`# ${rule.id}: `));
    assert.match(rule.help.markdown, /## Suppressing\n\nPut `\/\* notifier-audit: ignore /);
    assert.equal(rule.helpUri, `https://github.com/mmu-notifier-audit/mmu-notifier-audit/blob/main/docs/rules/${rule.id}.md`);
    assert.equal(rule.defaultConfiguration.level, rule.id === 'range-imbalance' ? 'warning' : 'error');
    assert.ok(rule.properties.tags.includes('correctness'));
    assert.ok(['very-high', 'high', 'medium', 'low'].includes(rule.properties.precision));
  }
  assert.equal(runObj.invocations[0].executionSuccessful, true);
  // A run that cannot be trusted (a missing path next to findings) says so.
  const bad = run(['--format', 'sarif', join(FIX, 'notifier-under-ptl'), join(FIX, 'no-such-dir')], { cwd: ROOT });
  assert.equal(bad.status, 2);
  assert.equal(JSON.parse(bad.stdout).runs[0].invocations[0].executionSuccessful, false);
});

/** Two identical unbracketed calls in one function, and one in another: three findings, three fingerprints. */
const TWIN = `// kernel-version: 4.4
static void twice(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, pte_t *ptep, pte_t pte)
{
	spinlock_t *ptl;

	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	set_pte_at_notify(mm, addr, ptep, pte);
	set_pte_at_notify(mm, addr, ptep, pte);
	pte_unmap_unlock(ptep, ptl);
}

static void once(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, pte_t *ptep, pte_t pte)
{
	spinlock_t *ptl;

	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	set_pte_at_notify(mm, addr, ptep, pte);
	pte_unmap_unlock(ptep, ptl);
}
`;

test('partialFingerprints survive line moves and tell findings apart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-sarif-fp-'));
  try {
    const fixture = join(FIX, 'unbracketed-change-pte/wp-page-2012-before.c');
    const file = join(dir, 'wp.c');
    copyFileSync(fixture, file);
    writeFileSync(join(dir, 'twin.c'), TWIN);
    const audit = () => {
      const s = sarifOf(run(['--format', 'sarif', 'wp.c', 'twin.c'], { cwd: dir }));
      return s.runs[0].results.map((x) => ({
        uri: x.locations[0].physicalLocation.artifactLocation.uri,
        line: x.locations[0].physicalLocation.region.startLine,
        fn: x.properties.function,
        fp: x.partialFingerprints,
      }));
    };
    const before = audit();
    // Blank lines and a comment on top, and the body re-indented: every line number moves.
    writeFileSync(file, '\n\n\n/* moved */\n\n' + readFileSync(fixture, 'utf8').replace(/^\t/gm, '\t  '));
    writeFileSync(join(dir, 'twin.c'), '\n\n' + TWIN);
    const after = audit();
    assert.equal(after.length, before.length);
    assert.equal(before.filter((x) => x.uri === 'twin.c').length, 3, JSON.stringify(before));
    for (const [i, b] of before.entries()) {
      const a = after[i];
      assert.equal(a.uri, b.uri);
      assert.ok(a.line > b.line, `${b.uri}: line moved`);
      assert.deepEqual(a.fp, b.fp, `${b.uri}:${b.line} fingerprints unchanged`);
    }
    // Every finding has its own fingerprints, the two identical lines in twice() too (occurrence index).
    for (const key of ['primaryLocationLineHash', 'notifierAudit/v1']) assert.equal(new Set(before.map((x) => x.fp[key])).size, before.length, key);
    const twins = before.filter((x) => x.fn === 'twice').map((x) => x.fp.primaryLocationLineHash);
    assert.deepEqual(twins.map((h) => h.split(':')[1]), ['1', '2']);
    assert.equal(twins[0].split(':')[0], twins[1].split(':')[0]);
    // The function is part of the hash: the same line in once() hashes differently.
    const once = before.find((x) => x.fn === 'once').fp.primaryLocationLineHash;
    assert.notEqual(once.split(':')[0], twins[0].split(':')[0]);
    // A changed flagged line is a new alert.
    writeFileSync(file, readFileSync(fixture, 'utf8').replace('set_pte_at_notify(mm, address, page_table, entry)', 'set_pte_at_notify(mm, address, page_table, new_entry)'));
    const changed = audit().find((x) => x.uri === 'wp.c');
    assert.notEqual(changed.fp.primaryLocationLineHash, before.find((x) => x.uri === 'wp.c').fp.primaryLocationLineHash);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
