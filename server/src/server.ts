// Language server entry (placeholder until the LSP server lands): `notifier-audit lsp --stdio`.
export function startServer(): void {
  process.stderr.write('notifier-audit: the language server is not built yet\n');
  process.exit(2);
}
