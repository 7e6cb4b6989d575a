// VS Code extension entry: starts the language server over IPC and wires commands, status bar and settings.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { Methods, type StatusParams } from '../../server/src/protocol';
import { COMMANDS, type Ctx } from './commands';
import { rawSettings, SECTION } from './config';
import { FindingsStatus } from './status';

let client: LanguageClient | undefined;
let lastStatus: StatusParams | undefined;

function makeClient(context: vscode.ExtensionContext, log: vscode.OutputChannel): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'c' },
      { scheme: 'untitled', language: 'c' },
    ],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.c,*.h,Makefile}') },
    outputChannel: log,
    initializationOptions: {
      client: 'vscode',
      settings: rawSettings(),
      helpDir: vscode.Uri.joinPath(context.globalStorageUri, 'help').fsPath,
    },
  };
  return new LanguageClient('notifierAudit', 'MMU Notifier Audit', serverOptions, clientOptions);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('MMU Notifier Audit');
  const status = new FindingsStatus();
  context.subscriptions.push(log, status);

  const start = async (): Promise<void> => {
    client = makeClient(context, log);
    client.onNotification(Methods.status, (s: StatusParams) => {
      lastStatus = s;
      status.update(s);
    });
    await client.start();
  };
  const ctx: Ctx = {
    client: () => client,
    log,
    kernelVersion: () => {
      const v = lastStatus?.kernelVersion;
      return v && /^\d+\.\d+/.test(v) ? /^\d+\.\d+/.exec(v)![0] : undefined;
    },
    restart: async () => {
      const old = client;
      client = undefined;
      status.stopped();
      await old?.stop().catch(() => undefined);
      await start();
      log.appendLine('server restarted');
    },
  };
  for (const [id, make] of Object.entries(COMMANDS)) context.subscriptions.push(vscode.commands.registerCommand(id, make(ctx)));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) void client?.sendNotification('workspace/didChangeConfiguration', { settings: null });
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
