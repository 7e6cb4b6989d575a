// Keystroke-to-diagnostics latency through a real LSP client on a large kernel file, against the parser's own re-parse
// time of the same edits (ratio); time to first diagnostics; server RSS after a workspace scan of mm/.
// usage: node bench/lsp-latency.mjs [file.c] [--edits N] [--gap ms] [--tree dir]
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { startClient } from '../test/lsp/client.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : def;
};
const EDITS = Number(opt('--edits', 100));
const GAP = Number(opt('--gap', 120));
const trees = [join(ROOT, '.cache/linux-6.1'), join(ROOT, '.cache/linux-source-6.1')];
const tree = opt('--tree', trees.find((t) => existsSync(join(t, 'mm/memory.c'))));
const file = args[0] ?? (tree && join(tree, 'mm/memory.c'));
if (!file || !existsSync(file)) {
  console.error('no input file: extract linux-source-6.1 (see bench README) or pass a C file');
  process.exit(2);
}
const text = readFileSync(file, 'utf8');
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (n) => n.toFixed(2);

// The edit positions: inside a function that mentions a notifier (so analysis really runs), in a comment-free line.
const lines = text.split('\n');
let editLine = lines.findIndex((l) => /mmu_notifier_invalidate_range_start|set_pte_at_notify/.test(l));
if (editLine < 0) editLine = Math.floor(lines.length / 2);
const col = lines[editLine].length;

// Baseline: the parser's incremental re-parse (pre-pass + tree-sitter with the old tree) of the same edits.
const engine = require(join(ROOT, 'dist/engine.js'));
const parser = await engine.CParser.create();
let parsed = parser.parse(text);
const parseMs = [];
const editedText = (i) => {
  const l = [...lines];
  if (i % 2 === 0) l[editLine] = l[editLine] + ' ';
  return l.join('\n');
};
for (let i = 0; i < EDITS; i++) {
  const t = i % 2 === 0 ? editedText(i) : text;
  const t0 = performance.now();
  const next = parser.parse(t, parsed);
  parseMs.push(performance.now() - t0);
  if (next.tree !== parsed.tree) parsed.tree.delete();
  parsed = next;
}
const rawMs = [];
for (let i = 0; i < 10; i++) {
  const t0 = performance.now();
  parser.parseRaw(text).delete();
  rawMs.push(performance.now() - t0);
}

// Through the LSP: open, first diagnostics, then typed edits at a typing rhythm.
const c = await startClient({ settings: {}, initializationOptions: { scan: false }, ...(process.env.LSP_SERVER_ARGS ? { command: [process.execPath, ...process.env.LSP_SERVER_ARGS.split(' '), join(ROOT, 'dist/server.js'), '--stdio'] } : {}) });
const t0 = performance.now();
const { uri } = c.open(file, text);
await c.waitDiagnostics(uri, 1, 60000);
const firstMs = performance.now() - t0;
const lat = [];
let v = 1;
for (let i = 0; i < EDITS; i++) {
  const range = i % 2 === 0 ? { start: { line: editLine, character: col }, end: { line: editLine, character: col } } : { start: { line: editLine, character: col }, end: { line: editLine, character: col + 1 } };
  const s = performance.now();
  v = c.edit(uri, range, i % 2 === 0 ? ' ' : '');
  await c.waitDiagnostics(uri, v, 30000);
  lat.push(performance.now() - s);
  await new Promise((r) => setTimeout(r, GAP));
}
const findings = c.diags.get(uri).diagnostics.length;
await c.stop();

// Memory after a workspace scan of the tree (mm/ and the notifier header).
let rssMb = NaN;
let scan;
if (tree) {
  const w = await startClient({ folder: tree, settings: {} });
  scan = await w.request('notifierAudit/scanWorkspace', {});
  const status = readFileSync(`/proc/${w.child.pid}/status`, 'utf8');
  rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  await w.stop();
}

const p50 = pct(lat, 50);
const p95 = pct(lat, 95);
const b50 = pct(parseMs, 50);
const b95 = pct(parseMs, 95);
console.log(`file: ${file} (${lines.length} lines), ${EDITS} edits ${GAP} ms apart, ${findings} diagnostic(s) at the end`);
console.log(`keystroke -> diagnostics (LSP): p50 ${fmt(p50)} ms, p95 ${fmt(p95)} ms`);
console.log(`incremental re-parse of the same edits (pre-pass + tree-sitter): p50 ${fmt(b50)} ms, p95 ${fmt(b95)} ms; full parse without pre-pass: p50 ${fmt(pct(rawMs, 50))} ms`);
console.log(`ratio LSP / re-parse: p50 ${fmt(p50 / b50)}x, p95 ${fmt(p95 / b95)}x`);
console.log(`time to first diagnostics after didOpen: ${fmt(firstMs)} ms`);
if (scan) console.log(`workspace scan of ${tree}: ${scan.filesScanned} files, ${scan.filesAnalysed} analysed, ${scan.findings} finding(s), ${scan.ms} ms; server RSS ${fmt(rssMb)} MB`);
console.log(JSON.stringify({ p50, p95, parseP50: b50, parseP95: b95, ratioP50: p50 / b50, ratioP95: p95 / b95, firstMs, rssMb, scan }));
