// "Simulate this path": runs the simulator on a finding's witness path, writes the text trace to the output channel
// and shows the timeline in a webview panel whose steps reveal their source line when clicked.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { renderTraceText, simulateFinding } from '../../simulator/src/index';
import type { SimulationResult, Step } from '../../simulator/src/types';
import type { WireFinding } from '../../server/src/protocol';
import { renderSimulationHtml } from './webview/render';

/** What the webview posts when the user picks a step that has a source position (see webview/render.ts). */
interface RevealMessage {
  type: 'reveal';
  file: string;
  line: number;
  column?: number;
}

function isReveal(m: unknown): m is RevealMessage {
  if (!m || typeof m !== 'object') return false;
  const r = m as Partial<RevealMessage>;
  return r.type === 'reveal' && typeof r.file === 'string' && Number.isInteger(r.line) && (r.line as number) >= 1;
}

/** The URI of a trace's source file: the finding's own URI for its file, else a file path or a URI string. */
function uriOf(file: string, finding: WireFinding): vscode.Uri {
  if (file === finding.file || file === finding.uri) return vscode.Uri.parse(finding.uri);
  return /^[a-z][a-z0-9+.-]+:\/\//i.test(file) ? vscode.Uri.parse(file) : vscode.Uri.file(file);
}

/**
 * The result with every step's file shown relative to the workspace (what the webview displays and posts back), and
 * the URI of each such name: the only files a webview message may reveal.
 */
function withDisplayNames(result: SimulationResult, finding: WireFinding): { shown: SimulationResult; files: Map<string, vscode.Uri> } {
  const files = new Map<string, vscode.Uri>();
  const rename = (steps: Step[]): Step[] =>
    steps.map((s) => {
      if (!s.source) return s;
      const uri = uriOf(s.source.file, finding);
      const name = vscode.workspace.asRelativePath(uri, false);
      files.set(name, uri);
      return { ...s, source: { ...s.source, file: name } };
    });
  return { shown: { ...result, steps: rename(result.steps), fixed: { ...result.fixed, steps: rename(result.fixed.steps) } }, files };
}

/** Shows `line`:`column` (1-based) of `uri` in the editor column that already shows it (or the first), cursor on it. */
async function reveal(uri: vscode.Uri, line: number, column: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const l = Math.min(Math.max(0, line - 1), doc.lineCount - 1);
  const pos = new vscode.Position(l, Math.min(Math.max(0, column - 1), doc.lineAt(l).text.length));
  const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
  const editor = await vscode.window.showTextDocument(doc, {
    viewColumn: shown?.viewColumn ?? vscode.ViewColumn.One,
    selection: new vscode.Range(pos, pos),
    preserveFocus: false,
  });
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

export function showSimulation(finding: WireFinding, kernelVersion: string | undefined, log: vscode.OutputChannel): void {
  const t0 = Date.now();
  let result: SimulationResult;
  try {
    result = simulateFinding(finding, { kernelVersion });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log.appendLine(`simulation of ${finding.rule} at line ${finding.line} failed: ${msg}`);
    void vscode.window.showErrorMessage(`MMU Notifier Audit: the simulation failed: ${msg}`);
    return;
  }
  // The text version: for screen readers and logs.
  log.appendLine(renderTraceText(result));
  const title = `Simulation: ${finding.rule} in ${finding.function}() line ${finding.line}`;
  const panel = vscode.window.createWebviewPanel('notifierAudit.simulation', title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, {
    enableScripts: true,
    localResourceRoots: [],
  });
  const { shown, files } = withDisplayNames(result, finding);
  const nonce = randomBytes(16).toString('base64');
  panel.webview.html = renderSimulationHtml(shown, { nonce, cspSource: panel.webview.cspSource, title });
  log.appendLine(`simulation panel rendered in ${Date.now() - t0} ms`);
  const sub = panel.webview.onDidReceiveMessage(async (m: unknown) => {
    const uri = isReveal(m) ? files.get(m.file) : undefined;
    if (!uri || !isReveal(m)) return;
    try {
      await reveal(uri, m.line, m.column ?? 1);
    } catch (err) {
      log.appendLine(`cannot reveal ${m.file}:${m.line}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  panel.onDidDispose(() => sub.dispose());
}
