// Typed access to the extension's settings (section "notifierAudit"); the server validates them.
import * as vscode from 'vscode';

export const SECTION = 'notifierAudit';

export function rawSettings(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration(SECTION))) as Record<string, unknown>;
}
