// Each file is judged by the version of the kernel tree it is in: two trees in one run get their own semantics, and
// the summary says the trees were mixed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const CLI = join(ROOT, 'bin/notifier-audit.js');
const FIXTURE = join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/pre-3.7-still-reported.c');

test('paths in two kernel trees are analysed with each tree\'s version; the summary says the trees are mixed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-mixed-'));
  try {
    for (const [name, major, minor] of [['old', 3, 6], ['new', 4, 4]]) {
      mkdirSync(join(dir, name, 'mm'), { recursive: true });
      writeFileSync(join(dir, name, 'Makefile'), `VERSION = ${major}\nPATCHLEVEL = ${minor}\nSUBLEVEL = 0\n`);
      writeFileSync(join(dir, name, 'mm/ksm.c'), readFileSync(FIXTURE, 'utf8'));
    }
    const r = spawnSync(process.execPath, [CLI, '--format', 'json', join(dir, 'old/mm'), join(dir, 'new/mm')], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    const bySev = Object.fromEntries(out.findings.map((f) => [f.file.includes('/old/') ? 'old' : 'new', f]));
    assert.equal(bySev.old.severity, 'warning');
    assert.match(bySev.old.message, /kernel 3\.6/);
    assert.equal(bySev.new.severity, 'error');
    assert.match(bySev.new.message, /kernel 4\.4/);
    assert.match(out.kernelVersion, /^mixed trees: 3\.6/);
    assert.equal(out.trees.length, 2);
    const text = spawnSync(process.execPath, [CLI, join(dir, 'old/mm'), join(dir, 'new/mm')], { encoding: 'utf8' });
    assert.match(text.stdout, /mixed trees/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
