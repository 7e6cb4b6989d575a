// The custom protocol between the VS Code client (or any LSP client) and the server: one namespace, "notifierAudit/<method>".
import type { Finding } from './engine/types';

/** Commands the server executes through workspace/executeCommand (other editors; VS Code uses the requests below). */
export const ServerCommands = {
  scanWorkspace: 'notifierAudit.server.scanWorkspace',
  simulate: 'notifierAudit.server.simulate',
  findings: 'notifierAudit.server.findings',
} as const;

/** Client-side command ids (the VS Code extension registers them; code lenses name them). */
export const ClientCommands = {
  scanWorkspace: 'notifierAudit.scanWorkspace',
  showFindings: 'notifierAudit.showFindings',
  simulateAtCursor: 'notifierAudit.simulateAtCursor',
  simulate: 'notifierAudit.simulate',
  showOutput: 'notifierAudit.showOutput',
  restartServer: 'notifierAudit.restartServer',
} as const;

export interface ScanResult {
  filesScanned: number;
  filesAnalysed: number;
  findings: number;
  ms: number;
}

export interface FindingsParams {
  /** A document URI; absent: every file. */
  uri?: string;
}

export interface FindingAtParams {
  uri: string;
  position: { line: number; character: number };
}

/** A finding as sent to the client: the engine's Finding plus the URI of its file. */
export interface WireFinding extends Finding {
  uri: string;
}

export interface StatusParams {
  /** Findings over all files the server knows. */
  findings: number;
  files: number;
  busy: boolean;
  kernelVersion: string;
}

export const Methods = {
  /** Request: scan the workspace folders now (with work-done progress). Result: ScanResult. */
  scanWorkspace: 'notifierAudit/scanWorkspace',
  /** Request: findings of one file or all. Result: WireFinding[]. */
  findings: 'notifierAudit/findings',
  /** Request: the finding under or nearest to a position on its line. Result: WireFinding | null. */
  findingAt: 'notifierAudit/findingAt',
  /** Notification server -> client: counts for the status bar. */
  status: 'notifierAudit/status',
} as const;
