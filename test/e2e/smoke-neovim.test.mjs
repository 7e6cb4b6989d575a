// Proves the Neovim harness against a throw-away stdio LSP server written here (one diagnostic, one quick-fix).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureDebianPackages } from '../../scripts/e2e-setup.mjs';
import { setupGate } from './gate.mjs';
import { nvimVersion, runNeovimLsp } from './neovim-harness.mjs';
import { SMOKE_C_FILE, smokeLspServerSource } from './smoke-fixtures.mjs';

const C_FILE = SMOKE_C_FILE;

let dir;
const gate = setupGate(() => nvimVersion() || ensureDebianPackages(['neovim']));
before(() => {
  // Installs neovim when missing (CI on a fresh machine); fails loudly unless apt itself is unavailable.
  gate.run();
  dir = mkdtempSync(join(tmpdir(), 'e2e-nvim-smoke-'));
  writeFileSync(join(dir, 'server.js'), smokeLspServerSource());
  writeFileSync(join(dir, 'demo.c'), C_FILE);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('neovim: diagnostics, quick-fix applied, diagnostics cleared', { timeout: 60_000 }, async (t) => {
  if (!gate.ready(t)) return;
  const r = await runNeovimLsp({
    serverCmd: [process.execPath, join(dir, 'server.js'), '--stdio'],
    rootDir: dir,
    file: 'demo.c',
    codeAction: { title: 'Replace bad_call' },
  });
  process.stderr.write(`[e2e] ${nvimVersion()} run ${r.durationMs} ms\n`);
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0].code, 'smoke-rule');
  assert.deepEqual(r.diagnostics[0].range, { start: { line: 4, character: 11 }, end: { line: 4, character: 19 } });
  assert.equal(r.nvimDiagnostics.length, 1, 'Neovim itself shows the diagnostic');
  assert.deepEqual(r.codeActions, ['Replace bad_call with good_call']);
  assert.equal(r.textAfter, C_FILE.replace('bad_call', 'good_call').replace(/\n$/, ''));
  assert.deepEqual(r.diagnosticsAfter, []);
  assert.deepEqual(r.leftovers, [], 'the server ends with nvim');
});

test('neovim: a failing scenario fails loudly with the reason', { timeout: 60_000 }, async (t) => {
  if (!gate.ready(t)) return;
  await assert.rejects(
    runNeovimLsp({
      serverCmd: [process.execPath, join(dir, 'server.js'), '--stdio'],
      rootDir: dir,
      file: 'demo.c',
      codeAction: { title: 'No such fix' },
    }),
    /no code action containing "No such fix"/,
  );
});
