// Real VS Code (code-server + Chromium): the simulator from the editor. Our .vsix installed, a kernel-like tree
// (Makefile: v5.10) opened, the finding flagged; the palette command "Simulate the Flagged Path at the Cursor" opens
// the webview, which shows the broken invariant with its explanation; clicking the lock step of the replayed path
// puts the editor's cursor on that source line; the text trace is in the output channel; the code lens "Simulate
// this path" opens the same webview. Every wait is on what the screen (or the output channel's file) shows.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureE2eSetup, ROOT } from '../../scripts/e2e-setup.mjs';
import { setupGate } from './gate.mjs';
import { ARTIFACTS_DIR, kernelLikeWorkspace, packageExtension, pollUntil, processesMatching, withVSCode } from './harness.mjs';

const FIXTURE = join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/wp-page-2012-before.c');
const VSIX = join(ROOT, 'mmu-notifier-audit.vsix');
const FLAGGED_LINE = 21; // set_pte_at_notify(...) in the fixture
const LOCK_LINE = 17; // page_table = pte_offset_map_lock(...)
const gate = setupGate(ensureE2eSetup);
let workspace;

const log = (m) => process.stderr.write(`[e2e] ${m}\n`);
const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Text of the extension's output channel ("MMU Notifier Audit"), read from the log file VS Code backs it with. */
function outputChannelText(userDataDir) {
  const found = [];
  const walk = (d) => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/MMU Notifier Audit\.log$/.test(e.name)) found.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(userDataDir, 'logs'));
  return found.join('\n');
}

/** 1-based column as VS Code's status bar shows it (tabs expand to `tabSize`) of 1-based character column `col`. */
function visualColumn(lineText, col, tabSize = 4) {
  let v = 0;
  for (const ch of lineText.slice(0, col - 1)) v = ch === '\t' ? v + tabSize - (v % tabSize) : v + 1;
  return v + 1;
}

/** Saves a screenshot of the editor area only (editors and the webview, no side bar or panel) as
 * .test-artifacts/e2e/simulate-<name>.png: the small pictures client/README.md shows. */
async function editorAreaShot(page, name) {
  const box = await page.locator('.part.editor').boundingBox();
  const path = join(ARTIFACTS_DIR, `simulate-${name}.png`);
  await page.screenshot({ path, clip: box });
  return path;
}

before(() => {
  gate.run();
  packageExtension(ROOT);
  workspace = kernelLikeWorkspace('e2e-na-sim-', FIXTURE);
});

after(() => {
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

test('real VS Code: simulate the flagged path from the palette and the code lens, click a step, land on its line', { timeout: 300_000 }, async (t) => {
  if (!gate.ready(t)) return;
  const t0 = Date.now();
  await withVSCode({ extensions: [{ vsix: VSIX }], folder: workspace, name: 'simulate' }, async (vsc) => {
    const { wb, page } = vsc;
    const webview = () => page.frameLocator('iframe.webview').frameLocator('#active-frame');
    await wb.openFile('mm/memory.c');
    await wb.waitForSquiggle({ severity: 'error' });
    await wb.waitForProblem(/set_pte_at_notify\(\) with no invalidate range open/);
    await wb.gotoLine(FLAGGED_LINE, 5);

    // The quick-fix menu on the flagged line (a screenshot for the README), then closed again without applying.
    const rows = page.locator('.action-widget .monaco-list-row.action');
    await pollUntil(
      async () => {
        await wb.focusEditorKeepCursor();
        await page.keyboard.press('Control+.');
        if (await rows.first().waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) return true;
        await page.keyboard.press('Escape');
        return false;
      },
      { timeout: 30_000, interval: 0, what: 'the quick-fix menu' },
    );
    await page.locator('.action-widget .monaco-list-row.action', { hasText: /Wrap in mmu_notifier_invalidate_range_start/ }).first().waitFor();
    await wb.screenshot('1-quick-fix-menu');
    await editorAreaShot(page, 'readme-quick-fix');
    await page.keyboard.press('Escape');
    await page.locator('.action-widget').waitFor({ state: 'hidden' });
    assert.equal((await wb.cursorPosition())?.line, FLAGGED_LINE);

    // The palette command opens the webview with the broken invariant and its explanation.
    const tCmd = Date.now();
    await wb.runCommand('MMU Notifier Audit: Simulate the Flagged Path at the Cursor');
    const verdict = webview().locator('#variant-flagged .verdict.hazard');
    await verdict.waitFor({ state: 'visible', timeout: 30_000 });
    log(`simulation webview shown ${Date.now() - tCmd} ms after the palette command`);
    assert.match(await verdict.innerText(), /HAZARD on the flagged path: (I3 at step \d+, )?I5 at step \d+/);
    // I3 at the unlock (the device keeps its stale translation), then I5 when the device reaches the reused page.
    await webview().locator('#variant-flagged .step.broken .viol', { hasText: /I3 broken:/ }).waitFor({ state: 'visible' });
    const broken = webview().locator('#variant-flagged .step.broken .viol', { hasText: /I5 broken:/ });
    await broken.waitFor({ state: 'visible' });
    const violation = await broken.innerText();
    assert.match(violation, /I5 broken:/);
    assert.match(violation, /stale shadow PTE into page OLD, which was freed and now belongs to another process/);
    // The state pane shows the selected (broken) step and names the invariant again.
    await webview().locator('#state-body .bad', { hasText: /I[35] broken/ }).first().waitFor({ state: 'visible' });
    await page.locator('.tabs-container .tab.active', { hasText: /Simulation: unbracketed-change-pte/ }).first().waitFor();
    await wb.screenshot('2-webview');
    await editorAreaShot(page, 'readme-webview');

    // Clicking the lock step of the replayed path selects it and reveals its source line in the editor.
    const lockStep = webview().locator('#variant-flagged .step.has-src', { hasText: /lock ptl/ }).first();
    await lockStep.scrollIntoViewIfNeeded();
    assert.equal(await lockStep.getAttribute('data-line'), String(LOCK_LINE));
    // Source positions are shown relative to the workspace folder.
    assert.match(await lockStep.locator('.src').innerText(), new RegExp(`^mm/memory\\.c:${LOCK_LINE}:\\d+$`));
    const column = Number(await lockStep.getAttribute('data-column'));
    await lockStep.locator('.cell.lane').click();
    await pollUntil(async () => (await lockStep.getAttribute('aria-selected')) === 'true', { what: 'the lock step to be selected' });
    const pos = await pollUntil(
      async () => {
        const p = await wb.cursorPosition();
        return p && p.line === LOCK_LINE ? p : null;
      },
      { what: `the editor cursor on line ${LOCK_LINE}` },
    );
    // The status bar counts a tab as tabSize (4) columns: convert the step's character column to that.
    assert.deepEqual(pos, { line: LOCK_LINE, column: visualColumn(readFileSync(FIXTURE, 'utf8').split('\n')[LOCK_LINE - 1], column) });
    // The line is in the source file's editor (not a new one), and the webview stays open beside it.
    await wb.activeTab('memory.c').waitFor();
    await wb.waitForEditorText(/pte_offset_map_lock/);
    await page.locator('.tabs-container .tab', { hasText: /Simulation: unbracketed-change-pte/ }).first().waitFor();
    await wb.screenshot('3-step-revealed');
    await editorAreaShot(page, 'readme-step-revealed');

    // The fixed path: toggled in the webview, it holds every invariant.
    await webview().locator('#show-fixed').click();
    const fixedVerdict = webview().locator('#variant-fixed .verdict.safe');
    await fixedVerdict.waitFor({ state: 'visible' });
    assert.match(await fixedVerdict.innerText(), /No invariant breaks on the fixed path/);

    // The text version of the trace is in the output channel.
    const text = await pollUntil(
      () => {
        const s = outputChannelText(vsc.profile.userDataDir);
        return /Simulation of unbracketed-change-pte/.test(s) && /HAZARD on the flagged path: (I3 at step \d+, )?I5/.test(s) && s;
      },
      { what: 'the text trace in the output channel' },
    );
    assert.match(text, /\[T0\] lock ptl {2}\(.*memory\.c:17:15\)/);
    assert.match(text, />>> I5 BROKEN:/);

    // The code lens "Simulate this path" opens the same webview (once the first panel is closed).
    // The webview group is active after the toggle click: activate the source editor's group first.
    await page.locator('.tabs-container .tab', { has: page.locator('.label-name', { hasText: /^memory\.c$/ }) }).first().click();
    await wb.activeTab('memory.c').waitFor();
    await pollUntil(async () => (await wb.cursorPosition())?.line === LOCK_LINE, { what: 'the source editor to be active again' });
    await wb.runCommand('View: Close Editors in Other Groups');
    await page.locator('iframe.webview').waitFor({ state: 'detached' });
    await wb.activeTab('memory.c').waitFor();
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Simulate this path' }).first();
    await lens.waitFor({ state: 'visible' });
    await wb.screenshot('4-code-lens');
    await lens.click();
    await webview().locator('#variant-flagged .verdict.hazard', { hasText: /I5/ }).waitFor({ state: 'visible' });
    await webview().locator('#variant-flagged .step.broken .viol', { hasText: /I5 broken:/ }).waitFor({ state: 'visible' });
  });
  assert.deepEqual(processesMatching('mmu-notifier-audit.mmu-notifier-audit-0.1.0/dist/server.js'), [], 'the language server must not outlive code-server');
  log(`full VS Code simulate run ${sec(Date.now() - t0)}`);
});
