// Findings -> LSP diagnostics: rule id as code with a link to its help page, related locations, severity from settings.
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation } from 'vscode-languageserver';
import type { Finding, Severity } from '../engine/types';
import { helpUri } from './help';

export const SOURCE = 'notifier-audit';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function rangeOf(f: { line: number; column: number; endLine: number; endColumn: number }) {
  const start = { line: Math.max(0, f.line - 1), character: Math.max(0, f.column - 1) };
  let end = { line: Math.max(0, f.endLine - 1), character: Math.max(0, f.endColumn - 1) };
  if (end.line < start.line || (end.line === start.line && end.character <= start.character)) end = { line: start.line, character: start.character + 1 };
  return { start, end };
}

export function toDiagnostic(f: Finding, helpDir: string, uriOf: (file: string) => string): Diagnostic {
  const related: DiagnosticRelatedInformation[] = f.related.map((r) => ({
    location: { uri: uriOf(r.file), range: rangeOf({ line: r.line, column: r.column, endLine: r.line, endColumn: r.column + 1 }) },
    message: r.message,
  }));
  // The why (the message is one short line): as related information at the finding itself.
  if (f.detail) related.push({ location: { uri: uriOf(f.file), range: rangeOf(f) }, message: f.detail });
  return {
    range: rangeOf(f),
    severity: SEVERITY[f.severity] ?? DiagnosticSeverity.Warning,
    source: SOURCE,
    code: f.rule,
    codeDescription: { href: helpUri(helpDir, f.rule) },
    message: f.message,
    relatedInformation: related.length ? related : undefined,
    data: { rule: f.rule, line: f.line, column: f.column },
  };
}

/** All diagnostics of one file; a file that could not be analysed gets exactly one diagnostic saying so. */
export function toDiagnostics(findings: Finding[], error: string | undefined, helpDir: string, uriOf: (file: string) => string): Diagnostic[] {
  const out = findings.map((f) => toDiagnostic(f, helpDir, uriOf));
  if (error) {
    out.unshift({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      severity: /^not analysed/.test(error) ? DiagnosticSeverity.Information : DiagnosticSeverity.Warning,
      source: SOURCE,
      code: 'file-not-analysed',
      message: `MMU Notifier Audit could not analyse this file: ${error}`,
    });
  }
  return out;
}
