// --diff keeps a finding when the patch touches its function, or its witness path or related locations: a report moved
// to a caller (the bracket-in-the-caller convention) is kept when the patch changes the set_pte_at_notify() it names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const CLI = join(ROOT, 'bin/notifier-audit.js');
const FIXTURE = join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/convention-one-level-at-a-time.c');

/** A one-line modification hunk of `file` (relative name) at `line` (1-based). */
function patchAt(name, text, line) {
  const lines = text.split('\n');
  const old = lines[line - 1];
  return `--- a/${name}\n+++ b/${name}\n@@ -${line},1 +${line},1 @@\n-${old}\n+${old} /* changed */\n`;
}

function run(dir, diff) {
  writeFileSync(join(dir, 'p.diff'), diff);
  const r = spawnSync(process.execPath, [CLI, '--format', 'json', '--kernel-version', '5.4', '--diff', 'p.diff', 'mm.c'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout ? JSON.parse(r.stdout) : undefined, err: r.stderr };
}

test('--diff keeps a caller-level report when the patch touches the set_pte_at_notify() it names, and drops it for an unrelated hunk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-diffscope-'));
  try {
    const text = readFileSync(FIXTURE, 'utf8');
    writeFileSync(join(dir, 'mm.c'), text);
    const site = text.split('\n').findIndex((l) => /set_pte_at_notify\(mm, addr/.test(l)) + 1;
    const touchSite = run(dir, patchAt('mm.c', text, site));
    assert.equal(touchSite.code, 1, touchSite.err);
    assert.deepEqual(touchSite.out.findings.map((f) => f.function), ['outer_unbracketed']);
    // A hunk in a function that has nothing to do with the finding: nothing to report.
    const other = text.split('\n').findIndex((l) => /bracketed_user\(mm, vma, pmd, addr, page\);/.test(l)) + 1;
    const unrelated = run(dir, patchAt('mm.c', text, other));
    assert.equal(unrelated.code, 0, unrelated.err);
    assert.deepEqual(unrelated.out.findings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
