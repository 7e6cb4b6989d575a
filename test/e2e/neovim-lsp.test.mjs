// A second real client: Debian's Neovim (0.7) runs `notifier-audit lsp --stdio`, shows the diagnostic and applies the range-wrapper quick-fix.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureDebianPackages } from '../../scripts/e2e-setup.mjs';
import { setupGate } from './gate.mjs';
import { kernelLikeWorkspace } from './harness.mjs';
import { nvimVersion, runNeovimLsp } from './neovim-harness.mjs';
import { ROOT } from '../helpers.mjs';

const FIXTURE = join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/wp-page-2012-before.c');
let dir;
const gate = setupGate(() => nvimVersion() || ensureDebianPackages(['neovim']));
before(() => {
  gate.run();
  // A kernel-like tree: the Makefile says v4.9, so the fix uses mmun_start/mmun_end.
  dir = kernelLikeWorkspace('e2e-nvim-na-', FIXTURE, { major: 4, minor: 9 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('neovim: notifier-audit diagnostics, range-wrapper quick-fix applied, diagnostics cleared', { timeout: 90_000 }, async (t) => {
  if (!gate.ready(t)) return;
  const r = await runNeovimLsp({
    serverCmd: [process.execPath, join(ROOT, 'bin/notifier-audit.js'), 'lsp', '--stdio'],
    rootDir: dir,
    file: 'mm/memory.c',
    codeAction: { title: 'Wrap in mmu_notifier_invalidate_range_start/end' },
  });
  process.stderr.write(`[e2e] ${nvimVersion()} run ${r.durationMs} ms\n`);
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0].code, 'unbracketed-change-pte');
  assert.equal(r.diagnostics[0].range.start.line, 20);
  assert.equal(r.nvimDiagnostics.length, 1, 'Neovim itself shows the diagnostic');
  assert.deepEqual(r.codeActions, ['Wrap in mmu_notifier_invalidate_range_start/end (v4.9 API)', 'Suppress unbracketed-change-pte here (with a reason)']);
  assert.match(r.textAfter, /\tunsigned long mmun_start, mmun_end;\n/);
  assert.match(r.textAfter, /\tmmu_notifier_invalidate_range_start\(mm, mmun_start, mmun_end\);\n\n?\tpage_table = pte_offset_map_lock/);
  assert.match(r.textAfter, /\tpte_unmap_unlock\(page_table, ptl\);\n\tmmu_notifier_invalidate_range_end\(mm, mmun_start, mmun_end\);\n/);
  assert.deepEqual(r.diagnosticsAfter, []);
  assert.deepEqual(r.leftovers, [], 'the server ends with nvim');
});
