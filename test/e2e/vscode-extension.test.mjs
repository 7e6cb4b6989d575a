// Real VS Code (code-server + Chromium): our .vsix installed as a user would, a kernel-like tree opened, the diagnostic
// in Problems, the range-wrapper quick-fix applied through Control+., the diagnostic gone, palette commands run.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureE2eSetup, ROOT } from '../../scripts/e2e-setup.mjs';
import { setupGate } from './gate.mjs';
import { kernelLikeWorkspace, packageExtension, processesMatching, withVSCode } from './harness.mjs';

const FIXTURE = join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/wp-page-2012-before.c');
const VSIX = join(ROOT, 'mmu-notifier-audit.vsix');
const gate = setupGate(ensureE2eSetup);
let workspace;

before(() => {
  gate.run();
  packageExtension(ROOT);
  workspace = kernelLikeWorkspace('e2e-na-ws-', FIXTURE);
});

after(() => {
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

test('real VS Code: install the .vsix, see the finding, apply the quick-fix, run palette commands', { timeout: 300_000 }, async (t) => {
  if (!gate.ready(t)) return;
  const t0 = Date.now();
  await withVSCode({ extensions: [{ vsix: VSIX }], folder: workspace, name: 'notifier-audit' }, async (vsc) => {
    const { wb } = vsc;
    await wb.openFile('mm/memory.c');
    await wb.waitForSquiggle({ severity: 'error' });
    const tOpen = Date.now();
    await wb.waitForProblem(/set_pte_at_notify\(\) with no invalidate range open/);
    process.stderr.write(`[e2e] diagnostic in Problems ${((tOpen - t0) / 1000).toFixed(1)} s after start\n`);
    await wb.screenshot('1-diagnostic');
    // The status bar counts the finding.
    await vsc.page.locator('.statusbar-item', { hasText: /MMU notifier: 1/ }).first().waitFor({ timeout: 30_000 });
    await wb.gotoLine(21, 5);
    const titles = await wb.quickFix(/Wrap in mmu_notifier_invalidate_range_start\/end \(v5\.10 API\)/);
    assert.ok(titles.some((x) => /Suppress unbracketed-change-pte/.test(x)), JSON.stringify(titles));
    await wb.waitForEditorText(/mmu_notifier_invalidate_range_start\(&range\);/);
    await wb.waitForEditorText(/mmu_notifier_invalidate_range_end\(&range\);/);
    await wb.waitForNoProblem(/set_pte_at_notify\(\) is reached/);
    await wb.waitForNoSquiggle({ severity: 'error' });
    await vsc.page.locator('.statusbar-item', { hasText: /MMU notifier: 0/ }).first().waitFor({ timeout: 30_000 });
    await wb.screenshot('2-fixed');
    await wb.runCommand('MMU Notifier Audit: Scan Workspace');
    await wb.waitForNotification(/MMU Notifier Audit: \d+ files scanned, 1 analysed, 0 finding/);
    await wb.screenshot('3-scan-command');
  });
  assert.deepEqual(processesMatching('mmu-notifier-audit.mmu-notifier-audit-0.1.0/dist/server.js'), [], 'the language server must not outlive code-server');
  process.stderr.write(`[e2e] full VS Code run ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
});
