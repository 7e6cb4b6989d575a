// The language server: connection, capabilities and handler wiring (stdio or IPC); the features live in features/.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CodeActionKind,
  createConnection,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type ClientCapabilities,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CParser } from './parse/parser';
import { ClientCommands, Methods, ServerCommands, type FindingAtParams, type FindingsParams, type ScanResult, type WireFinding } from './protocol';
import { AuditService } from './features/service';
import { applySettings, pullSettings } from './features/settings';
import { readForProject, scanWorkspace, scannedFiles } from './features/workspaceScan';
import { hoverFor, contains, noFixAdvice } from './features/hover';
import { fixesFor } from './features/fixes';
import { codeLensesFor } from './features/codeLens';
import { codeActionsFor, diskDocument } from './features/codeActions';
import { writeHelpPages } from './features/help';
import { loadSimulator } from './features/simulate';
import { uriToFile } from './features/uris';
import type { Finding } from './engine/types';

export { writeHelpPages } from './features/help';
export { noFixAdvice, hoverText } from './features/hover';
export { fixesFor, applyEdits, chooseRangeApi, rangeApiForVersion, rangeApiFromHeader, insertRangeFix, splitMacroFixes, moveOutOfLockFix, suppressFix } from './features/fixes';

interface InitOptions {
  /** "vscode" when the VS Code extension starts the server (it owns the client-side commands). */
  client?: string;
  settings?: unknown;
  helpDir?: string;
  /** Scan the workspace folders at start-up (default true). */
  scan?: boolean;
  debounceMs?: number;
}

/** Starts the server on the transport named on the command line (--stdio, --node-ipc, --socket=N). */
export function startServer(): Connection {
  const conn = createConnection(ProposedFeatures.all);
  const docs = new TextDocuments(TextDocument);
  let svc: AuditService | undefined;
  let caps: ClientCapabilities = {};
  let init: InitOptions = {};
  let folders: string[] = [];
  let ready: Promise<void> = Promise.resolve();

  process.on('uncaughtException', (e) => conn.console.error(`notifier-audit: uncaught: ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) => conn.console.error(`notifier-audit: unhandled rejection: ${(e as Error)?.stack ?? e}`));

  conn.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
    caps = params.capabilities;
    init = (params.initializationOptions ?? {}) as InitOptions;
    folders = (params.workspaceFolders ?? []).map((f) => uriToFile(f.uri));
    if (!folders.length && params.rootUri) folders = [uriToFile(params.rootUri)];
    else if (!folders.length && params.rootPath) folders = [params.rootPath];
    const helpDir = init.helpDir ?? join(tmpdir(), `notifier-audit-help-${process.getuid?.() ?? 'user'}`);
    try {
      writeHelpPages(helpDir);
    } catch (e) {
      conn.console.warn(`cannot write rule help pages to ${helpDir}: ${(e as Error).message}`);
    }
    const parser = await CParser.create();
    svc = new AuditService(parser, conn, docs, { debounceMs: init.debounceMs ?? 50, helpDir });
    const vscode = init.client === 'vscode';
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeLensProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        // VS Code's client registers these ids as commands; the extension owns its own commands instead.
        executeCommandProvider: vscode ? undefined : { commands: Object.values(ServerCommands) },
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'notifier-audit', version: '0.1.0' },
    };
  });

  const getSvc = (): AuditService => {
    if (!svc) throw new Error('server not initialised');
    return svc;
  };

  const readSettings = async (): Promise<unknown> => (caps.workspace?.configuration ? await pullSettings(conn) : init.settings);

  const scan = async (): Promise<ScanResult> => {
    const s = getSvc();
    const t0 = Date.now();
    const progress = caps.window?.workDoneProgress ? await conn.window.createWorkDoneProgress() : undefined;
    progress?.begin('MMU Notifier Audit: scanning workspace', 0, 'listing files', false);
    s.scanning = true;
    s.sendStatus();
    try {
      const r = await scanWorkspace(s, progress ? { report: (p, m) => progress.report(p, m) } : undefined);
      s.scanning = false;
      s.ensureCurrent();
      return { filesScanned: r.scanned, filesAnalysed: r.added, findings: s.allFindings().length, ms: Date.now() - t0 };
    } finally {
      s.scanning = false;
      s.sendStatus();
      progress?.done();
    }
  };

  conn.onInitialized(() => {
    // Only after initialisation, and only when the client sends these events (the getter throws otherwise).
    if (caps.workspace?.workspaceFolders) {
      conn.workspace.onDidChangeWorkspaceFolders((e) => {
        const removed = new Set(e.removed.map((f) => uriToFile(f.uri)));
        folders = folders.filter((f) => !removed.has(f)).concat(e.added.map((f) => uriToFile(f.uri)));
        const s = getSvc();
        s.configure(s.settings, folders);
        void scan();
      });
    }
    ready = (async () => {
      const s = getSvc();
      if (caps.workspace?.didChangeConfiguration?.dynamicRegistration) {
        void conn.client.register(DidChangeConfigurationNotification.type, { section: 'notifierAudit' });
      }
      if (caps.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
        void conn.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.{c,h}' }, { globPattern: '**/Makefile' }] });
      }
      s.configure(applySettings(conn, await readSettings()), folders);
      if (init.scan !== false && folders.length) await scan();
    })().catch((e) => conn.console.error(`start-up failed: ${(e as Error).stack ?? e}`));
  });

  conn.onDidChangeConfiguration(async (params) => {
    await ready;
    const raw = caps.workspace?.configuration ? await pullSettings(conn) : params.settings;
    getSvc().configure(applySettings(conn, raw), folders);
  });

  conn.onDidChangeWatchedFiles((params) => {
    const s = getSvc();
    let changed = false;
    for (const c of params.changes) {
      const file = uriToFile(c.uri);
      if (/\/Makefile$|mmu_notifier\.h$/.test(file)) {
        s.configure(s.settings, folders);
        continue;
      }
      if (s.isOpen(file)) continue;
      if (c.type === FileChangeType.Deleted) {
        if (scannedFiles.delete(file)) s.setDiskFile(file, undefined);
      } else {
        const r = readForProject(s, file);
        if (r) {
          scannedFiles.add(file);
          s.setDiskFile(file, r.text, r.error);
        } else if (scannedFiles.delete(file)) s.setDiskFile(file, undefined);
      }
      changed = true;
    }
    if (changed) s.schedule();
  });

  docs.onDidOpen((e) => getSvc().opened(e.document));
  docs.onDidChangeContent((e) => getSvc().changed(e.document));
  docs.onDidClose((e) =>
    getSvc().closed(e.document, (file) => {
      if (!scannedFiles.has(file)) return undefined;
      return readForProject(getSvc(), file)?.text;
    }),
  );

  /** Findings of a document, current with its latest text. */
  const currentFindings = (uri: string): Finding[] => {
    const s = getSvc();
    s.ensureCurrent();
    return s.findingsOf(uriToFile(uri));
  };

  conn.onHover((p) => {
    const s = getSvc();
    const file = uriToFile(p.textDocument.uri);
    // The hover says when no rewriting fix passes its re-analysis, and what to write by hand instead.
    const fixNote = (f: Finding): string | undefined => {
      const text = s.textOf(file);
      if (text === undefined) return undefined;
      const verify = (newText: string, g: { function: string; rule: string }): boolean => s.project.checkRewrite(file, g.function, g.rule, newText).ok;
      return fixesFor(text, f, s.rangeApi, verify).some((x) => !x.title.startsWith('Suppress')) ? undefined : noFixAdvice(f);
    };
    return hoverFor(currentFindings(p.textDocument.uri), p.position, s.versionLabel(), fixNote);
  });

  conn.onCodeLens((p) => {
    const s = getSvc();
    const command = loadSimulator() ? (init.client === 'vscode' ? ClientCommands.simulate : ServerCommands.simulate) : undefined;
    return codeLensesFor(currentFindings(p.textDocument.uri).map((f) => s.wire(f)), command);
  });

  conn.onCodeAction((p) => {
    const s = getSvc();
    const findings = currentFindings(p.textDocument.uri);
    if (!findings.length) return [];
    const file = uriToFile(p.textDocument.uri);
    const open = docs.get(p.textDocument.uri);
    const doc = open ?? diskDocument(p.textDocument.uri, s.textOf(file) ?? '');
    const verify = (newText: string, f: { function: string; rule: string }): boolean => s.project.checkRewrite(file, f.function, f.rule, newText).ok;
    return codeActionsFor(p, doc, findings, s.rangeApi, !!caps.workspace?.workspaceEdit?.documentChanges, !!open, verify);
  });

  conn.onRequest(Methods.scanWorkspace, async () => {
    await ready;
    return scan();
  });

  conn.onRequest(Methods.findings, (p: FindingsParams): WireFinding[] => {
    const s = getSvc();
    s.ensureCurrent();
    return (p?.uri ? s.findingsOf(uriToFile(p.uri)) : s.allFindings()).map((f) => s.wire(f));
  });

  conn.onRequest(Methods.findingAt, (p: FindingAtParams): WireFinding | null => {
    const s = getSvc();
    const fs = currentFindings(p.uri);
    const hit = fs.find((f) => contains(f, p.position)) ?? fs.filter((f) => f.line - 1 === p.position.line)[0] ?? nearest(fs, p.position.line);
    return hit ? s.wire(hit) : null;
  });

  conn.onExecuteCommand(async (p) => {
    const s = getSvc();
    switch (p.command) {
      case ServerCommands.scanWorkspace:
        await ready;
        return scan();
      case ServerCommands.findings: {
        s.ensureCurrent();
        const uri = typeof p.arguments?.[0] === 'string' ? (p.arguments[0] as string) : undefined;
        return (uri ? s.findingsOf(uriToFile(uri)) : s.allFindings()).map((f) => s.wire(f));
      }
      case ServerCommands.simulate: {
        const sim = loadSimulator();
        const f = p.arguments?.[0] as Finding | undefined;
        if (!sim || !f) return null;
        const result = sim.simulateFinding(f, { kernelVersion: s.version ? `${s.version.major}.${s.version.minor}` : undefined });
        const text = sim.renderTraceText(result);
        // One short line (a long message blocks Neovim on its hit-enter prompt); the whole trace goes to the log.
        void conn.window.showInformationMessage(`${text.split('\n')[0]}: ${result.hazard ? `HAZARD (${result.violations.map((v) => v.invariant).join(', ')})` : 'no invariant breaks'}; fixed path ${result.fixed.hazard ? 'still breaks' : 'holds'}. Full trace in the server log.`);
        conn.console.log(text);
        return text;
      }
      default:
        return null;
    }
  });

  docs.listen(conn);
  conn.listen();
  return conn;
}

function nearest(fs: Finding[], line0: number): Finding | undefined {
  let best: Finding | undefined;
  for (const f of fs) if (!best || Math.abs(f.line - 1 - line0) < Math.abs(best.line - 1 - line0)) best = f;
  return best && Math.abs(best.line - 1 - line0) <= 50 ? best : undefined;
}

if (require.main === module) startServer();
