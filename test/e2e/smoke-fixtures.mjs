// Throw-away pieces shared by the harness smoke tests: a tiny stdio LSP server and the C file it flags.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A C file with one `bad_call` (line 5, columns 12-19 1-based) for the smoke diagnostics. */
export const SMOKE_C_FILE = '#include <linux/mm.h>\n\nstatic int demo(struct mm_struct *mm)\n{\n\tint ret = bad_call(mm);\n\treturn ret;\n}\n';

/**
 * Source of a stdio LSP server (vscode-languageserver, required by absolute path) that flags every `bad_call`
 * with one warning (code 'smoke-rule', message prefix `prefix`) and offers the quick-fix
 * "Replace bad_call with good_call".
 */
export function smokeLspServerSource(prefix = 'smoke') {
  return `
const { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, DiagnosticSeverity, CodeActionKind } =
  require(${JSON.stringify(require.resolve('vscode-languageserver/node'))});
const { TextDocument } = require(${JSON.stringify(require.resolve('vscode-languageserver-textdocument'))});

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

connection.onInitialize(() => ({
  capabilities: {
    textDocumentSync: TextDocumentSyncKind.Incremental,
    codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
  },
}));

function check(doc) {
  const text = doc.getText();
  const diagnostics = [];
  for (let i = text.indexOf('bad_call'); i >= 0; i = text.indexOf('bad_call', i + 1)) {
    diagnostics.push({
      range: { start: doc.positionAt(i), end: doc.positionAt(i + 8) },
      severity: DiagnosticSeverity.Warning,
      code: 'smoke-rule',
      source: 'e2e-smoke',
      message: ${JSON.stringify(prefix)} + ': bad_call() is not allowed here',
    });
  }
  connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
}
documents.onDidChangeContent((e) => check(e.document));

connection.onCodeAction((params) =>
  params.context.diagnostics
    .filter((d) => d.code === 'smoke-rule')
    .map((d) => ({
      title: 'Replace bad_call with good_call',
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [params.textDocument.uri]: [{ range: d.range, newText: 'good_call' }] } },
    })),
);

documents.listen(connection);
connection.listen();
`;
}
