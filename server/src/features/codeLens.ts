// Code lens "Simulate this path" above each flagged call (only when the simulator is built).
import type { CodeLens } from 'vscode-languageserver';
import type { WireFinding } from '../protocol';
import { rangeOf } from './diagnostics';

export function codeLensesFor(findings: WireFinding[], command: string | undefined): CodeLens[] {
  if (!command) return [];
  return findings
    .filter((f) => f.path.length > 0)
    .map((f) => ({ range: rangeOf(f), command: { title: 'Simulate this path', command, arguments: [f] } }));
}
