// Code actions: the quick-fixes of fixes.ts turned into LSP workspace edits for the findings under the requested range.
import { CodeActionKind, type CodeAction, type CodeActionParams, type Diagnostic, type Range } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Finding } from '../engine/types';
import { rangeOf } from './diagnostics';
import { fixesFor, type FixVerifier, type RangeApi } from './fixes';

function overlaps(a: Range, b: Range): boolean {
  const before = (p: Range['start'], q: Range['start']) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

export function codeActionsFor(
  params: CodeActionParams,
  doc: TextDocument,
  findings: Finding[],
  api: RangeApi,
  useDocumentChanges: boolean,
  isOpen: boolean,
  /** Re-analyses a rewrite: a fix is offered only when it re-analyses clean. */
  verify?: FixVerifier,
): CodeAction[] {
  if (params.context.only && !params.context.only.some((k) => k === CodeActionKind.QuickFix || k.startsWith(CodeActionKind.QuickFix) || CodeActionKind.QuickFix.startsWith(k))) return [];
  const text = doc.getText();
  const out: CodeAction[] = [];
  for (const f of findings) {
    const r = rangeOf(f);
    if (!overlaps(r, params.range)) continue;
    const diags: Diagnostic[] = params.context.diagnostics.filter((d) => d.code === f.rule && d.range.start.line === r.start.line);
    for (const fix of fixesFor(text, f, api, verify)) {
      out.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        isPreferred: fix.isPreferred,
        diagnostics: diags.length ? diags : undefined,
        edit: (() => {
          const edits = fix.edits.map((e) => ({ range: { start: doc.positionAt(e.start), end: doc.positionAt(e.end) }, newText: e.newText }));
          return useDocumentChanges
            ? { documentChanges: [{ textDocument: { uri: doc.uri, version: isOpen ? doc.version : null }, edits }] }
            : { changes: { [doc.uri]: edits } };
        })(),
      });
    }
  }
  return out;
}

/** A TextDocument for a file that is not open (code actions on scanned files). */
export function diskDocument(uri: string, text: string): TextDocument {
  return TextDocument.create(uri, 'c', 0, text);
}
