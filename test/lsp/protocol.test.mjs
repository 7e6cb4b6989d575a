// The server over stdio driven by a real LSP client: diagnostics, hover, code lens, code action, edits, settings, scan, robustness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';
import { startClient, proto, editsFor, applyTextEdits, uriOf } from './client.mjs';

const BEFORE = join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/wp-page-2012-before.c');
const nonEmpty = (c, uri) => () => (c.diags.get(uri)?.diagnostics.length ? c.diags.get(uri) : undefined);

test('open -> diagnostics -> hover -> code lens -> code action -> apply -> diagnostics cleared', async () => {
  const c = await startClient({ settings: { kernelVersion: '5.10' } });
  try {
    assert.equal(c.init.capabilities.textDocumentSync.change, 2);
    assert.ok(c.init.capabilities.hoverProvider);
    const { uri } = c.open(BEFORE);
    const pub = await c.waitFor(nonEmpty(c, uri), 10000, 'diagnostics');
    assert.equal(pub.version, 1);
    assert.equal(pub.diagnostics.length, 1);
    const d = pub.diagnostics[0];
    assert.equal(d.code, 'unbracketed-change-pte');
    assert.equal(d.source, 'notifier-audit');
    assert.equal(d.severity, 1);
    assert.equal(d.range.start.line, 20);
    assert.match(d.codeDescription.href, /^file:.*unbracketed-change-pte\.md$/);
    assert.match(readFileSync(new URL(d.codeDescription.href), 'utf8'), /set_pte_at_notify/);
    assert.equal(d.relatedInformation[0].location.range.start.line, 16);
    assert.match(d.relatedInformation[0].message, /lock/);

    const hover = await c.request(proto.HoverRequest.type, { textDocument: { uri }, position: { line: 20, character: 5 } });
    assert.match(hover.contents.value, /\*\*Path\*\*/);
    assert.match(hover.contents.value, /v3\.7 to v6\.9/);
    assert.match(hover.contents.value, /line 17: lock/);
    const none = await c.request(proto.HoverRequest.type, { textDocument: { uri }, position: { line: 3, character: 0 } });
    assert.equal(none, null);

    const lenses = await c.request(proto.CodeLensRequest.type, { textDocument: { uri } });
    assert.ok(Array.isArray(lenses));
    for (const l of lenses) {
      assert.equal(l.command.title, 'Simulate this path');
      assert.equal(l.command.arguments[0].rule, 'unbracketed-change-pte');
    }

    const actions = await c.request(proto.CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    assert.deepEqual(actions.map((a) => a.title), ['Wrap in mmu_notifier_invalidate_range_start/end (v5.10 API)', 'Suppress unbracketed-change-pte here (with a reason)']);
    assert.equal(actions[0].kind, 'quickfix');
    assert.equal(actions[0].diagnostics[0].code, 'unbracketed-change-pte');
    const fixed = applyTextEdits(c.text(uri), editsFor(actions[0], uri));
    assert.match(fixed, /struct mmu_notifier_range range;\n/);
    assert.match(fixed, /mmu_notifier_range_init\(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, address & PAGE_MASK, \(address & PAGE_MASK\) \+ PAGE_SIZE\);\n\tmmu_notifier_invalidate_range_start\(&range\);\n\n?\tpage_table = pte_offset_map_lock/);
    assert.match(fixed, /pte_unmap_unlock\(page_table, ptl\);\n\tmmu_notifier_invalidate_range_end\(&range\);\n/);
    const v = c.change(uri, fixed);
    const after = await c.waitDiagnostics(uri, v);
    assert.deepEqual(after.diagnostics, []);

    // Break it again with an incremental edit (delete the range start line): the diagnostic comes back, and the
    // range end left behind has no start on that path.
    const lines = fixed.split('\n');
    const ln = lines.findIndex((l) => l.includes('mmu_notifier_invalidate_range_start('));
    const v2 = c.edit(uri, { start: { line: ln, character: 0 }, end: { line: ln + 1, character: 0 } }, '');
    const again = await c.waitDiagnostics(uri, v2);
    assert.deepEqual(again.diagnostics.map((d) => d.code).sort(), ['range-imbalance', 'unbracketed-change-pte'], JSON.stringify(again));

    const st = c.statuses.at(-1);
    assert.equal(typeof st.findings, 'number');
    await c.close(uri);
    await c.waitFor(() => c.diags.get(uri)?.diagnostics.length === 0, 5000, 'cleared on close');
  } finally {
    await c.stop();
  }
});

test('severity and enabled rules come from the settings; bad settings give a clear message and defaults', async () => {
  const c = await startClient({ settings: { kernelVersion: '5.10', severity: { 'unbracketed-change-pte': 'hint' } } });
  try {
    const { uri } = c.open(BEFORE);
    const d = await c.waitFor(nonEmpty(c, uri), 10000, 'diagnostics');
    assert.equal(d.diagnostics[0].severity, 4);
    await c.setSettings({ kernelVersion: 'banana', maxFileSize: -3, enabledRules: ['nope'], severity: { 'unbracketed-change-pte': 'loud' } });
    const msg = await c.waitFor(() => c.messages.find((m) => /kernelVersion/.test(m.message)), 5000, 'settings warning');
    assert.equal(msg.type, 2);
    assert.match(msg.message, /kernelVersion must look like "6\.1"/);
    assert.match(msg.message, /maxFileSize must be a positive number/);
    assert.match(msg.message, /unknown rule id\(s\) in enabledRules: nope/);
    // enabledRules ['nope'] filters to [] (no rules): the diagnostic disappears; severities reset to defaults.
    await c.waitFor(() => c.diags.get(uri)?.diagnostics.length === 0, 5000, 'no rules enabled');
    await c.setSettings({ enabledRules: ['unbracketed-change-pte'] });
    const back = await c.waitFor(nonEmpty(c, uri), 5000, 'diagnostic back');
    assert.equal(back.diagnostics[0].severity, 1);
  } finally {
    await c.stop();
  }
});

test('a file that cannot be analysed gets one diagnostic saying so', async () => {
  const c = await startClient({ settings: { maxFileSize: 200 } });
  try {
    const { uri } = c.open(BEFORE);
    const d = await c.waitFor(nonEmpty(c, uri), 10000, 'diagnostics');
    assert.equal(d.diagnostics.length, 1);
    assert.equal(d.diagnostics[0].code, 'file-not-analysed');
    assert.match(d.diagnostics[0].message, /could not analyse this file: not analysed: \d+ characters is over notifierAudit\.maxFileSize/);
  } finally {
    await c.stop();
  }
});

test('1,000 rapid edits: the server survives and the last version gets the right diagnostics', async () => {
  const c = await startClient({ settings: { kernelVersion: '5.10' } });
  try {
    const text = readFileSync(BEFORE, 'utf8');
    const { uri } = c.open(BEFORE, text);
    await c.waitFor(nonEmpty(c, uri), 10000, 'first diagnostics');
    // Type and delete characters inside the function, and toggle the bug on and off by renaming the call.
    const line = text.split('\n').findIndex((l) => l.includes('set_pte_at_notify(mm'));
    const col = text.split('\n')[line].indexOf('set_pte_at_notify') + 'set_pte_at_notify'.length;
    let v = 1;
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) v = c.edit(uri, { start: { line, character: col }, end: { line, character: col } }, 'X');
      else v = c.edit(uri, { start: { line, character: col }, end: { line, character: col + 1 } }, '');
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    // 1000 edits: even count, so the text is the original again and the finding is there.
    assert.equal(c.text(uri), text);
    const d = await c.waitDiagnostics(uri, v, 20000);
    assert.equal(d.diagnostics.length, 1);
    // One more edit that removes the bug: the diagnostics of that version are empty (nothing stale survives).
    const v2 = c.edit(uri, { start: { line, character: col }, end: { line, character: col } }, 'X');
    const d2 = await c.waitDiagnostics(uri, v2, 10000);
    assert.deepEqual(d2.diagnostics, []);
    const hover = await c.request(proto.HoverRequest.type, { textDocument: { uri }, position: { line, character: 3 } });
    assert.equal(hover, null);
  } finally {
    await c.stop();
  }
});

test('workspace scan at start-up with progress, and files changed on disk are followed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-ws-'));
  try {
    writeFileSync(join(dir, 'Makefile'), 'VERSION = 4\nPATCHLEVEL = 9\nSUBLEVEL = 0\n');
    mkdirSync(join(dir, 'mm'));
    const a = join(dir, 'mm/cow.c');
    writeFileSync(a, readFileSync(BEFORE, 'utf8'));
    writeFileSync(join(dir, 'mm/other.c'), 'int unrelated(void) { return 0; }\n');
    const c = await startClient({ folder: dir });
    try {
      const uri = uriOf(a);
      const d = await c.waitFor(nonEmpty(c, uri), 10000, 'diagnostics of a file that is not open');
      assert.match(d.diagnostics[0].message, /kernel 4\.9/);
      assert.ok(c.progress.some((p) => p.value?.kind === 'begin'), 'work-done progress begins');
      await c.waitFor(() => c.progress.some((p) => p.value?.kind === 'end'), 5000, 'work-done progress ends');
      // The quick-fix on a file that is not open uses the tree's version (v4.9: mmun_start/mmun_end).
      const acts = await c.request(proto.CodeActionRequest.type, { textDocument: { uri }, range: d.diagnostics[0].range, context: { diagnostics: d.diagnostics } });
      const fixed = applyTextEdits(readFileSync(a, 'utf8'), editsFor(acts[0], uri));
      assert.match(fixed, /unsigned long mmun_start, mmun_end;/);
      assert.match(fixed, /mmu_notifier_invalidate_range_start\(mm, mmun_start, mmun_end\);/);
      writeFileSync(a, fixed);
      await c.conn.sendNotification(proto.DidChangeWatchedFilesNotification.type, { changes: [{ uri, type: 2 }] });
      await c.waitFor(() => c.diags.get(uri)?.diagnostics.length === 0, 5000, 'cleared after the change on disk');
      // Scan on request.
      const r = await c.request('notifierAudit/scanWorkspace', {});
      assert.equal(r.filesScanned, 2);
      assert.equal(r.filesAnalysed, 1);
      assert.equal(r.findings, 0);
    } finally {
      await c.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client without workspace/configuration (Neovim-like): initializationOptions settings, server commands', async () => {
  const c = await startClient({
    initializationOptions: { settings: { kernelVersion: '6.5' } },
    capabilities: { workspace: { workspaceEdit: { documentChanges: false } }, textDocument: { publishDiagnostics: { relatedInformation: true } } },
  });
  try {
    assert.ok(c.init.capabilities.executeCommandProvider.commands.includes('notifierAudit.server.findings'));
    const { uri } = c.open(BEFORE);
    await c.waitFor(nonEmpty(c, uri), 10000, 'diagnostics');
    const all = await c.request(proto.ExecuteCommandRequest.type, { command: 'notifierAudit.server.findings', arguments: [uri] });
    assert.equal(all.length, 1);
    assert.equal(all[0].uri, uri);
    const at = await c.request('notifierAudit/findingAt', { uri, position: { line: 20, character: 0 } });
    assert.equal(at.rule, 'unbracketed-change-pte');
    const d = c.diags.get(uri).diagnostics[0];
    const acts = await c.request(proto.CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    assert.match(acts[0].title, /v6\.5 API/);
    const fixed = applyTextEdits(c.text(uri), editsFor(acts[0], uri));
    assert.match(fixed, /mmu_notifier_range_init\(&range, MMU_NOTIFY_CLEAR, 0, mm, address & PAGE_MASK/);
  } finally {
    await c.stop();
  }
});

test('a quiet editor on a clean tree: a big file that mentions no notifier says nothing, a relevant one says it is too big; the status shows the scan', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-quiet-'));
  try {
    writeFileSync(join(dir, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n');
    mkdirSync(join(dir, 'drivers'));
    const big = join(dir, 'drivers/regs_sh_mask.h');
    writeFileSync(big, '#define REG_A 0x1\n'.repeat(4000));
    const bigRelevant = join(dir, 'drivers/big_user.c');
    writeFileSync(bigRelevant, `/* calls mmu_notifier_invalidate_range_start */\n${'int pad;\n'.repeat(6000)}`);
    const c = await startClient({ folder: dir, settings: { maxFileSize: 40000 } });
    try {
      await c.waitFor(() => c.progress.some((p) => p.value?.kind === 'end'), 10000, 'scan ends');
      await c.waitFor(() => c.diags.get(uriOf(bigRelevant))?.diagnostics.length === 1, 5000, 'the relevant big file says it was not analysed');
      assert.match(c.diags.get(uriOf(bigRelevant)).diagnostics[0].message, /maxFileSize/);
      assert.equal(c.diags.get(uriOf(big))?.diagnostics.length ?? 0, 0, 'an irrelevant big file stays silent');
      // While the scan runs the status is busy (no "0 findings" yet); after it, it is not.
      assert.ok(c.statuses.some((s) => s.busy === true), JSON.stringify(c.statuses));
      await c.waitFor(() => c.statuses.length && c.statuses[c.statuses.length - 1].busy === false, 5000, 'status not busy after the scan');
    } finally {
      await c.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the connection answers while a heavy file is analysed: a hover on another file comes back before the heavy file\'s diagnostics', async () => {
  const { generate } = await import('../../bench/pathological.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'na-heavy-'));
  try {
    const heavy = join(dir, 'heavy.c');
    // Many functions, each heavy: the analysis takes several budgets, and yields between them.
    writeFileSync(heavy, Array.from({ length: 6 }, (_, i) => generate('flags', 400).replace(/\bint h\(/, `int h${i}(`)).join('\n'));
    const c = await startClient();
    try {
      const { uri } = c.open(BEFORE);
      const d = await c.waitFor(nonEmpty(c, uri), 10000, 'diagnostics of the small file');
      const heavyUri = c.open(heavy).uri;
      const order = [];
      const diagDone = c.waitFor(() => c.diags.has(heavyUri), 60000, 'diagnostics of the heavy file').then(() => order.push('heavy diagnostics'));
      await new Promise((r) => setTimeout(r, 100));
      const hover = await c.request(proto.HoverRequest.type, { textDocument: { uri }, position: d.diagnostics[0].range.start });
      order.push('hover');
      assert.ok(hover, 'hover answered');
      await diagDone;
      assert.deepEqual(order, ['hover', 'heavy diagnostics']);
    } finally {
      await c.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
