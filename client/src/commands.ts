// The palette commands, as a table of factories over the running client.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ClientCommands, Methods, type ScanResult, type WireFinding } from '../../server/src/protocol';
import { showSimulation } from './simulate';

export interface Ctx {
  client(): LanguageClient | undefined;
  log: vscode.OutputChannel;
  restart(): Promise<void>;
  kernelVersion(): string | undefined;
}

type Factory = (ctx: Ctx) => (...args: unknown[]) => unknown;

const needClient = (ctx: Ctx): LanguageClient => {
  const c = ctx.client();
  if (!c) throw new Error('the MMU Notifier Audit server is not running');
  return c;
};

async function findingAtCursor(ctx: Ctx): Promise<WireFinding | null> {
  const ed = vscode.window.activeTextEditor;
  if (!ed) return null;
  return needClient(ctx).sendRequest<WireFinding | null>(Methods.findingAt, {
    uri: ed.document.uri.toString(),
    position: { line: ed.selection.active.line, character: ed.selection.active.character },
  });
}

export const COMMANDS: Record<string, Factory> = {
  [ClientCommands.scanWorkspace]: (ctx) => async () => {
    const r = await needClient(ctx).sendRequest<ScanResult>(Methods.scanWorkspace, {});
    void vscode.window.showInformationMessage(`MMU Notifier Audit: ${r.filesScanned} files scanned, ${r.filesAnalysed} analysed, ${r.findings} finding(s) (${r.ms} ms).`);
    return r;
  },
  [ClientCommands.showFindings]: (ctx) => async () => {
    const ed = vscode.window.activeTextEditor;
    const fs = await needClient(ctx).sendRequest<WireFinding[]>(Methods.findings, ed ? { uri: ed.document.uri.toString() } : {});
    if (!fs.length) {
      void vscode.window.showInformationMessage('MMU Notifier Audit: no findings in this file.');
      return fs;
    }
    const pick = await vscode.window.showQuickPick(
      fs.map((f) => ({ label: `$(warning) ${f.rule}`, description: `line ${f.line} in ${f.function}()`, detail: f.message, f })),
      { title: 'MMU Notifier Audit: findings in this file', matchOnDetail: true },
    );
    if (pick) {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(pick.f.uri));
      const pos = new vscode.Position(pick.f.line - 1, pick.f.column - 1);
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
    }
    return fs;
  },
  [ClientCommands.simulateAtCursor]: (ctx) => async () => {
    const f = await findingAtCursor(ctx);
    if (!f) {
      void vscode.window.showInformationMessage('MMU Notifier Audit: no finding at the cursor to simulate.');
      return;
    }
    showSimulation(f, ctx.kernelVersion(), ctx.log);
  },
  [ClientCommands.simulate]: (ctx) => (finding: unknown) => {
    if (finding && typeof finding === 'object') showSimulation(finding as WireFinding, ctx.kernelVersion(), ctx.log);
  },
  [ClientCommands.showOutput]: (ctx) => () => ctx.log.show(true),
  [ClientCommands.restartServer]: (ctx) => () => ctx.restart(),
};
