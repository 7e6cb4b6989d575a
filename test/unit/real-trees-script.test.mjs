// scripts/real-trees.mjs on a tiny made-up kernel tree (temp dir) with judgement files written here: matching
// judgements exit 0, a new or a missing finding exits 1 and is named, usage errors exit 2. Needs only the built CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const SCRIPT = join(ROOT, 'scripts/real-trees.mjs');
const run = (args) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 60000 });

// A 3.6 "tree": a Makefile and one function that changes a pte under the page-table lock with no range start.
const base = mkdtempSync(join(tmpdir(), 'real-trees-'));
const tree = join(base, 'trees', 'fake-3.6');
mkdirSync(join(tree, 'mm'), { recursive: true });
writeFileSync(join(tree, 'Makefile'), 'VERSION = 3\nPATCHLEVEL = 6\nSUBLEVEL = 0\nEXTRAVERSION =\n');
writeFileSync(
  join(tree, 'mm/foo.c'),
  `static int foo_replace(struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr, pte_t entry)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *ptep;

	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	set_pte_at_notify(mm, addr, ptep, entry);
	pte_unmap_unlock(ptep, ptl);
	return 0;
}
`,
);
const finding = { file: 'mm/foo.c', function: 'foo_replace', rule: 'unbracketed-change-pte', line: 8, verdict: 'true', reason: 'made up' };

/** A judgement directory holding one file for the fake tree with these findings. */
function judgements(name, findings) {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fake-3.6.json'), JSON.stringify({ tree: 'fake-3.6', version: '3.6.0', repo: 'none', commit: 'none', command: 'notifier-audit fake-3.6', findings, notes: [] }));
  return dir;
}

test.after(() => rmSync(base, { recursive: true, force: true }));

test('matching judgements exit 0 (tree root or a directory of trees)', () => {
  const dir = judgements('match', [finding]);
  for (const target of [tree, join(base, 'trees')]) {
    const r = run(['--judgements', dir, target]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /fake-3\.6: 1 findings \(true 1, latent 0, false 0, unjudged 0\), 0 new, 0 missing/);
    assert.doesNotMatch(r.stdout, /NEW|MISSING|WARNING/);
  }
});

test('a finding not in the judgement file is NEW (exit 1)', () => {
  const r = run(['--judgements', judgements('empty', []), tree]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /NEW +mm\/foo\.c:8 foo_replace \[unbracketed-change-pte\]/);
});

test('a judged finding not reported is MISSING (exit 1); a changed line alone is "moved"', () => {
  const extra = { ...finding, function: 'bar', line: 20 };
  const r = run(['--judgements', judgements('extra', [finding, extra]), tree]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /MISSING +mm\/foo\.c:20 bar \[unbracketed-change-pte\]/);
  const m = run(['--judgements', judgements('moved', [{ ...finding, line: 7 }]), tree]);
  assert.equal(m.status, 0, m.stdout + m.stderr);
  assert.match(m.stdout, /moved +mm\/foo\.c:7 foo_replace .* -> line 8/);
});

test('the pre-3.7 contract: an unbracketed-change-pte finding not judged "true" is a WARNING', () => {
  const r = run(['--judgements', judgements('latent', [{ ...finding, verdict: 'latent' }]), tree]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /WARNING .*before 3\.7 must be verdict "true"/);
});

test('--update writes the judgement file, --json prints the summary', () => {
  const dir = join(base, 'update');
  const u = run(['--judgements', dir, '--update', tree]);
  assert.equal(u.status, 0, u.stdout + u.stderr);
  const j = run(['--judgements', dir, '--json', tree]);
  assert.equal(j.status, 0, j.stdout + j.stderr);
  const s = JSON.parse(j.stdout);
  assert.equal(s.ok, true);
  assert.deepEqual(s.trees.map((t) => [t.tree, t.findings, t.verdicts]), [['fake-3.6', 1, { unjudged: 1 }]]);
});

test('usage errors exit 2 with one line', () => {
  for (const args of [[], [join(base, 'nonexistent')], [join(base, 'match')]]) {
    const r = run(args);
    assert.equal(r.status, 2, `${args}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^real-trees: .+\n$/);
  }
});
