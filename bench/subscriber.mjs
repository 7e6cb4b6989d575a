// The subscriber rules' cost: the CLI on a whole kernel tree with all rules against the mm-side rules alone, measured
// in one run, alternating the two, and printed as a ratio (target: all rules within 1.5x of the mm side alone), with
// the peak RSS of each and the subscriber findings of the run.
//   node bench/subscriber.mjs [TREE] [--reps N]     (default tree: Debian's linux-source-6.1, extracted on demand)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKernelTree } from './kernel-tree.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin/notifier-audit.js');
const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const REPS = repsAt >= 0 ? Number(args[repsAt + 1]) : 3;
const treeArg = args.find((a, i) => !a.startsWith('--') && (repsAt < 0 || i !== repsAt + 1));
let tree;
try {
  tree = treeArg ?? ensureKernelTree('6.1');
} catch (e) {
  process.stdout.write(`subscriber bench skipped: ${e.message}\n`);
  process.exit(0);
}

const tmp = mkdtempSync(join(tmpdir(), 'na-sub-bench-'));
const mmOnly = join(tmp, 'mm-only.json');
writeFileSync(mmOnly, JSON.stringify({ enabledRules: ['unbracketed-change-pte', 'notifier-under-ptl', 'range-imbalance'] }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function once(config) {
  const out = join(tmp, 'out.json');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, '--format', 'json', '--output', out, ...(config ? ['--config', config] : []), tree], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && r.status !== 1) throw new Error(`CLI failed (${r.status}): ${r.stderr}`);
  const rssKb = Number(/(\d+)\s*$/.exec(r.stderr.trim())?.[1] ?? 0);
  return { ms, rssKb, report: JSON.parse(readFileSync(out, 'utf8')) };
}

try {
  const mm = [];
  const all = [];
  once(mmOnly); // warm the page cache
  for (let i = 0; i < REPS; i++) {
    mm.push(once(mmOnly));
    all.push(once(undefined));
  }
  const mmMs = median(mm.map((r) => r.ms));
  const allMs = median(all.map((r) => r.ms));
  const sub = all[0].report.findings.filter((f) => /sleeps|interval|register/.test(f.rule));
  process.stdout.write(`subscriber rules on ${tree} (${REPS} runs each, alternating, medians)\n`);
  process.stdout.write(`  mm-side rules only: ${(mmMs / 1000).toFixed(2)} s, peak RSS ${Math.max(...mm.map((r) => r.rssKb)) >> 10} MB\n`);
  process.stdout.write(`  all rules:          ${(allMs / 1000).toFixed(2)} s, peak RSS ${Math.max(...all.map((r) => r.rssKb)) >> 10} MB\n`);
  process.stdout.write(`  ratio all / mm-side: ${(allMs / mmMs).toFixed(2)}x (target <= 1.5x: ${allMs / mmMs <= 1.5 ? 'met' : 'NOT met'})\n`);
  process.stdout.write(`  subscriber findings: ${sub.length} (${sub.filter((f) => f.severity !== 'hint').length} errors/warnings, ${sub.filter((f) => f.severity === 'hint').length} hints)\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
