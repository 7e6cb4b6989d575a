// Proves the real-editor harness on a real VS Code with a throw-away extension generated here (no project code involved).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureE2eSetup, ROOT } from '../../scripts/e2e-setup.mjs';
import { setupGate } from './gate.mjs';
import { installVsix, makeProfile, packageVsix, processesMatching, withVSCode } from './harness.mjs';
import { SMOKE_C_FILE, smokeLspServerSource } from './smoke-fixtures.mjs';

const SMOKE_EXTENSION_JS = `
const vscode = require('vscode');

function check(doc, diagnostics) {
  if (doc.languageId !== 'c') return;
  const out = [];
  const text = doc.getText();
  for (let i = text.indexOf('bad_call'); i >= 0; i = text.indexOf('bad_call', i + 1)) {
    const range = new vscode.Range(doc.positionAt(i), doc.positionAt(i + 'bad_call'.length));
    const d = new vscode.Diagnostic(range, 'smoke: bad_call() is not allowed here', vscode.DiagnosticSeverity.Warning);
    d.code = 'smoke-rule';
    d.source = 'e2e-smoke';
    out.push(d);
  }
  diagnostics.set(doc.uri, out);
}

exports.activate = function activate(context) {
  const diagnostics = vscode.languages.createDiagnosticCollection('e2e-smoke');
  context.subscriptions.push(diagnostics);
  vscode.workspace.textDocuments.forEach((d) => check(d, diagnostics));
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument((d) => check(d, diagnostics)),
    vscode.workspace.onDidChangeTextDocument((e) => check(e.document, diagnostics)),
    vscode.languages.registerCodeActionsProvider('c', {
      provideCodeActions(doc, _range, ctx) {
        return ctx.diagnostics.filter((d) => d.code === 'smoke-rule').map((d) => {
          const fix = new vscode.CodeAction('Replace bad_call with good_call', vscode.CodeActionKind.QuickFix);
          fix.diagnostics = [d];
          fix.isPreferred = true;
          fix.edit = new vscode.WorkspaceEdit();
          fix.edit.replace(doc.uri, d.range, 'good_call');
          return fix;
        });
      },
    }, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    vscode.commands.registerCommand('e2eSmoke.hello', () => {
      const n = vscode.languages.getDiagnostics().reduce((s, [, ds]) => s + ds.filter((d) => d.source === 'e2e-smoke').length, 0);
      vscode.window.showInformationMessage('E2E smoke says hello: ' + n + ' finding(s)');
    }),
  );
};
exports.deactivate = function deactivate() {};
`;

const LSP_EXTENSION_JS = `
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');
let client;
exports.activate = async function activate(context) {
  const module = context.asAbsolutePath('server.js');
  const server = { module, transport: TransportKind.stdio };
  client = new LanguageClient('e2eLspSmoke', 'E2E LSP Smoke', { run: server, debug: server }, {
    documentSelector: [{ scheme: 'file', language: 'c' }],
  });
  await client.start();
  context.subscriptions.push(vscode.commands.registerCommand('e2eLspSmoke.restart', async () => {
    await client.restart();
    vscode.window.showInformationMessage('E2E LSP smoke: server restarted');
  }));
};
exports.deactivate = function deactivate() { return client && client.stop(); };
`;

/**
 * A throw-away extension in the shape of the real one: a vscode-languageclient client and a stdio server,
 * each bundled by esbuild into one file.
 */
function writeLspSmokeExtension() {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-lsp-ext-'));
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'extension.js'), LSP_EXTENSION_JS);
  writeFileSync(join(src, 'server.js'), smokeLspServerSource('lsp-smoke'));
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error', nodePaths: [join(ROOT, 'node_modules')] };
  buildSync({ ...common, entryPoints: [join(src, 'extension.js')], outfile: join(dir, 'extension.js'), external: ['vscode'] });
  buildSync({ ...common, entryPoints: [join(src, 'server.js')], outfile: join(dir, 'server.js') });
  rmSync(src, { recursive: true });
  const manifest = {
    name: 'e2e-lsp-smoke',
    publisher: 'e2e-harness',
    version: '0.0.1',
    engines: { vscode: '^1.90.0' },
    main: './extension.js',
    activationEvents: ['onLanguage:c'],
    contributes: { commands: [{ command: 'e2eLspSmoke.restart', title: 'Restart Server', category: 'E2E LSP Smoke' }] },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

/** Writes the throw-away extension into a new temp folder and returns it. */
function writeSmokeExtension() {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-smoke-ext-'));
  const manifest = {
    name: 'e2e-smoke',
    displayName: 'E2E Smoke',
    description: 'Throw-away extension that proves the real-editor harness',
    publisher: 'e2e-harness',
    version: '0.0.1',
    license: 'MIT',
    repository: 'https://example.invalid/e2e-smoke',
    engines: { vscode: '^1.90.0' },
    main: './extension.js',
    activationEvents: ['onLanguage:c'],
    contributes: { commands: [{ command: 'e2eSmoke.hello', title: 'Say Hello', category: 'E2E Smoke' }] },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'extension.js'), SMOKE_EXTENSION_JS);
  writeFileSync(join(dir, 'LICENSE'), 'MIT\n');
  writeFileSync(join(dir, 'README.md'), '# E2E smoke\n\nThrow-away extension for the harness test.\n');
  return dir;
}

const C_FILE = SMOKE_C_FILE;

const gate = setupGate(ensureE2eSetup);
let extDir;
let lspExtDir;
let workspace;
before(() => {
  const t0 = Date.now();
  const t = gate.run();
  if (t) process.stderr.write(`[e2e] setup ${(t.totalMs / 1000).toFixed(1)} s\n`);
  process.stderr.write(`[e2e] setup checked in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  extDir = writeSmokeExtension();
  lspExtDir = writeLspSmokeExtension();
  workspace = mkdtempSync(join(tmpdir(), 'e2e-smoke-ws-'));
  mkdirSync(join(workspace, 'mm'));
  writeFileSync(join(workspace, 'mm', 'demo.c'), C_FILE);
});

after(() => {
  if (extDir) rmSync(extDir, { recursive: true, force: true });
  if (lspExtDir) rmSync(lspExtDir, { recursive: true, force: true });
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

test('real VS Code: squiggle, Problems row, quick-fix via light bulb, palette command', { timeout: 300_000 }, async (t) => {
  if (!gate.ready(t)) return;
  const t0 = Date.now();
  await withVSCode({ extensions: [{ dir: extDir }], folder: workspace, name: 'smoke' }, async (vsc) => {
    const { wb } = vsc;
    await wb.openFile('mm/demo.c');
    await wb.waitForSquiggle({ severity: 'warning' });
    const row = await wb.waitForProblem(/bad_call\(\) is not allowed here/);
    assert.match(row.label + row.text, /smoke/);
    await wb.screenshot('1-diagnostic');

    await wb.gotoLine(5, 14);
    const offered = await wb.quickFix(/Replace bad_call with good_call/);
    assert.ok(offered.some((o) => /Replace bad_call/.test(o)), `offered: ${offered}`);
    await wb.waitForEditorText(/good_call\(mm\)/);
    await wb.waitForNoSquiggle();
    await wb.waitForNoProblem(/bad_call/);
    await wb.screenshot('2-fixed');

    await wb.runCommand('E2E Smoke: Say Hello');
    await wb.waitForNotification(/E2E smoke says hello: 0 finding/);
    await wb.screenshot('3-command');
  });
  for (const f of ['smoke-1-diagnostic.png', 'smoke-2-fixed.png', 'smoke-3-command.png']) {
    assert.ok(existsSync(join(ROOT, '.test-artifacts', 'e2e', f)), `${f} saved`);
  }
  process.stderr.write(`[e2e] full VS Code run ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
});

test('real VS Code + language client: LSP diagnostics, quick-fix, server ends with code-server', { timeout: 300_000 }, async (t) => {
  if (!gate.ready(t)) return;
  const t0 = Date.now();
  const serverJs = await withVSCode({ extensions: [{ dir: lspExtDir }], folder: workspace, name: 'lsp-smoke' }, async (vsc) => {
    const serverJs = join(vsc.profile.extensionsDir, 'e2e-harness.e2e-lsp-smoke-0.0.1', 'server.js');
    const { wb } = vsc;
    await wb.openFile('mm/demo.c');
    await wb.waitForSquiggle({ severity: 'warning' });
    await wb.waitForProblem(/lsp-smoke: bad_call\(\) is not allowed here/);
    assert.equal(processesMatching(serverJs).length, 1, 'one language server process');
    await wb.screenshot('1-diagnostic');
    await wb.gotoLine(5, 14);
    await wb.quickFix('Replace bad_call with good_call');
    await wb.waitForEditorText(/good_call\(mm\)/);
    await wb.waitForNoProblem(/bad_call/);
    await wb.runCommand('E2E LSP Smoke: Restart Server');
    await wb.waitForNotification('server restarted');
    await wb.screenshot('2-fixed');
    return serverJs;
  });
  assert.deepEqual(processesMatching(serverJs), [], 'the language server must not outlive code-server');
  process.stderr.write(`[e2e] full VS Code + LSP run ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
});

test('a .vsix installs with --install-extension', { timeout: 180_000 }, (t) => {
  if (!gate.ready(t)) return;
  const out = mkdtempSync(join(tmpdir(), 'e2e-vsix-'));
  const profile = makeProfile();
  try {
    const vsix = packageVsix(extDir, join(out, 'e2e-smoke.vsix'));
    installVsix(profile, vsix);
    const installed = readdirSync(profile.extensionsDir);
    assert.ok(installed.includes('e2e-harness.e2e-smoke-0.0.1'), `installed: ${installed}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(profile.dir, { recursive: true, force: true });
  }
});
