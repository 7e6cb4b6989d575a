// "Simulate this path": runs the simulator on a finding's witness path and shows the timeline in a webview panel.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { renderTraceText, simulateFinding } from '../../simulator/src/index';
import type { WireFinding } from '../../server/src/protocol';

type Render = (result: unknown, o: { nonce: string; cspSource: string; title: string }) => string;

/** The webview renderer of client/src/webview/render.ts when it is built in; a plain text trace otherwise. */
function loadRenderer(): Render | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require('./webview/render') as { renderSimulationHtml?: Render };
    return m.renderSimulationHtml;
  } catch {
    return undefined;
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function textPage(text: string, title: string, nonce: string, cspSource: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}';">
<title>${escapeHtml(title)}</title><style nonce="${nonce}">body{font-family:var(--vscode-editor-font-family);} pre{white-space:pre-wrap;}</style></head>
<body><h2>${escapeHtml(title)}</h2><pre id="trace">${escapeHtml(text)}</pre></body></html>`;
}

export function showSimulation(finding: WireFinding, kernelVersion: string | undefined, log: vscode.OutputChannel): void {
  const result = simulateFinding(finding, { kernelVersion });
  const text = renderTraceText(result);
  log.appendLine(text);
  const title = `Simulation: ${finding.rule} in ${finding.function}() line ${finding.line}`;
  const panel = vscode.window.createWebviewPanel('notifierAudit.simulation', title, vscode.ViewColumn.Beside, { enableScripts: true });
  const nonce = randomBytes(16).toString('base64');
  const render = loadRenderer();
  panel.webview.html = render
    ? render(result, { nonce, cspSource: panel.webview.cspSource, title })
    : textPage(text, title, nonce, panel.webview.cspSource);
  panel.webview.onDidReceiveMessage(async (m: { type?: string; file?: string; line?: number; column?: number }) => {
    if (m?.type !== 'reveal' || !m.file || !m.line) return;
    const uri = /^[a-z]+:/.test(m.file) ? vscode.Uri.parse(m.file) : vscode.Uri.file(m.file);
    const doc = await vscode.workspace.openTextDocument(uri);
    const pos = new vscode.Position(m.line - 1, Math.max(0, (m.column ?? 1) - 1));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(pos, pos) });
  });
}
