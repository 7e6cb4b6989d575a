// A real LSP client (vscode-jsonrpc + vscode-languageserver-protocol) driving `node dist/server.js --stdio` for the protocol tests.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { ROOT } from '../helpers.mjs';

const require = createRequire(import.meta.url);
const rpc = require('vscode-jsonrpc/node');
const proto = require('vscode-languageserver-protocol');
export { proto };

export const uriOf = (p) => pathToFileURL(p).toString();

/**
 * Starts the server. Options: folder (workspace root), settings (answered to workspace/configuration),
 * initializationOptions, command (default: node dist/server.js --stdio).
 */
export async function startClient(opts = {}) {
  const cmd = opts.command ?? [process.execPath, join(ROOT, 'dist/server.js'), '--stdio'];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  const diags = new Map(); // uri -> {version, diagnostics}
  const waiters = [];
  const messages = [];
  const logs = [];
  const statuses = [];
  const progress = [];
  let settings = opts.settings ?? {};
  conn.onNotification(proto.PublishDiagnosticsNotification.type, (p) => {
    diags.set(p.uri, p);
    for (const w of [...waiters]) w();
  });
  conn.onNotification(proto.ShowMessageNotification.type, (p) => {
    messages.push(p);
    for (const w of [...waiters]) w();
  });
  conn.onNotification(proto.LogMessageNotification.type, (p) => logs.push(p));
  conn.onNotification('notifierAudit/status', (p) => statuses.push(p));
  conn.onNotification('$/progress', (p) => {
    progress.push(p);
    for (const w of [...waiters]) w();
  });
  conn.onRequest(proto.ConfigurationRequest.type, (p) => p.items.map(() => settings));
  conn.onRequest(proto.RegistrationRequest.type, () => null);
  conn.onRequest(proto.WorkDoneProgressCreateRequest.type, () => null);
  conn.onRequest(proto.ShowMessageRequest.type, (p) => {
    messages.push(p);
    for (const w of [...waiters]) w();
    return null;
  });
  conn.listen();

  const folder = opts.folder;
  const init = await conn.sendRequest(proto.InitializeRequest.type, {
    processId: process.pid,
    rootUri: folder ? uriOf(folder) : null,
    workspaceFolders: folder ? [{ uri: uriOf(folder), name: 'ws' }] : null,
    capabilities: opts.capabilities ?? {
      workspace: { configuration: true, workspaceEdit: { documentChanges: true }, didChangeWatchedFiles: { dynamicRegistration: true } },
      window: { workDoneProgress: true },
      textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true } },
    },
    initializationOptions: opts.initializationOptions ?? {},
  });
  await conn.sendNotification(proto.InitializedNotification.type, {});

  const versions = new Map();
  const texts = new Map();
  const api = {
    conn,
    child,
    init,
    diags,
    messages,
    logs,
    statuses,
    progress,
    get stderr() {
      return stderr;
    },
    setSettings(s) {
      settings = s;
      return conn.sendNotification(proto.DidChangeConfigurationNotification.type, { settings: null });
    },
    /** Resolves when pred() is true (checked on every diagnostics/message notification), or rejects after ms. */
    waitFor(pred, ms = 10000, what = 'condition') {
      return new Promise((res, rej) => {
        const check = () => {
          let v;
          try {
            v = pred();
          } catch (e) {
            v = undefined;
          }
          if (v) {
            clearTimeout(t);
            waiters.splice(waiters.indexOf(check), 1);
            res(v);
          }
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          rej(new Error(`timed out waiting for ${what}; stderr: ${stderr.slice(-2000)}`));
        }, ms);
        waiters.push(check);
        check();
      });
    },
    /** Diagnostics for uri published for the given document version (or any when version is undefined). */
    waitDiagnostics(uri, version, ms) {
      return api.waitFor(() => {
        const d = diags.get(uri);
        return d && (version === undefined || d.version === version) ? d : undefined;
      }, ms, `diagnostics of ${uri} v${version}`);
    },
    open(file, text) {
      text ??= readFileSync(file, 'utf8');
      const uri = uriOf(file);
      versions.set(uri, 1);
      texts.set(uri, text);
      void conn.sendNotification(proto.DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text } });
      return { uri, version: 1 };
    },
    /** Full-text change; returns the new version. */
    change(uri, text) {
      const v = versions.get(uri) + 1;
      versions.set(uri, v);
      texts.set(uri, text);
      void conn.sendNotification(proto.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: v }, contentChanges: [{ text }] });
      return v;
    },
    /** Incremental change (range edit); returns the new version. */
    edit(uri, range, newText) {
      const v = versions.get(uri) + 1;
      versions.set(uri, v);
      texts.set(uri, applyTextEdits(texts.get(uri), [{ range, newText }]));
      void conn.sendNotification(proto.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: v }, contentChanges: [{ range, text: newText }] });
      return v;
    },
    text(uri) {
      return texts.get(uri);
    },
    close(uri) {
      return conn.sendNotification(proto.DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    },
    request(type, params) {
      return conn.sendRequest(type, params);
    },
    async stop() {
      try {
        await Promise.race([conn.sendRequest(proto.ShutdownRequest.type), new Promise((r) => setTimeout(r, 2000))]);
        await conn.sendNotification(proto.ExitNotification.type);
      } catch {
        /* already gone */
      }
      await new Promise((r) => {
        if (child.exitCode !== null) return r();
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 3000);
        child.on('exit', () => {
          clearTimeout(t);
          r();
        });
      });
      conn.dispose();
    },
  };
  return api;
}

/** Applies LSP TextEdits to a text (positions in UTF-16 code units). */
export function applyTextEdits(text, edits) {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const off = (p) => Math.min(text.length, (lineStarts[p.line] ?? text.length) + p.character);
  const sorted = edits.map((e, i) => ({ e, i, s: off(e.range.start), t: off(e.range.end) })).sort((a, b) => b.s - a.s || b.i - a.i);
  let out = text;
  for (const { e, s, t } of sorted) out = out.slice(0, s) + e.newText + out.slice(t);
  return out;
}

/** The text edits of a code action's workspace edit for one uri. */
export function editsFor(action, uri) {
  const we = action.edit;
  if (we.documentChanges) return we.documentChanges.filter((d) => d.textDocument.uri === uri).flatMap((d) => d.edits);
  return we.changes?.[uri] ?? [];
}
