// Generated pathological functions (not kernel code) that once hung the engine: gotos around range starts under a
// PTL, huge switches with conditional unlocks and starts, correlated flags, long && chains, deep loop nesting.
// `generate(kind, n)` is shared by the tests (which check that each ends, incomplete with a reason) and by the
// benchmark (node bench/pathological.mjs), which prints time against the per-function budget and peak RSS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KINDS = {
  gotos: (n) => {
    const s = ['int f(struct mm_struct *mm, pmd_t *pmd, unsigned long a, int *x)\n{\n\tspinlock_t *ptl;\n\tpte_t *pte;\n\tpte = pte_offset_map_lock(mm, pmd, a, &ptl);\n'];
    for (let i = 0; i < n; i++) s.push(`\tif (x[${i}]) goto L${i};\n\tmmu_notifier_invalidate_range_start(mm, a, a + ${i});\nL${i}:\n`);
    s.push('\tpte_unmap_unlock(pte, ptl);\n\treturn 0;\n}\n');
    return s.join('');
  },
  switch: (n) => {
    const s = ['int g(struct mm_struct *mm, pmd_t *pmd, unsigned long a, int k)\n{\n\tspinlock_t *ptl;\n\tpte_t *pte;\n\tint started = 0;\n\tpte = pte_offset_map_lock(mm, pmd, a, &ptl);\n\tswitch (k) {\n'];
    for (let i = 0; i < n; i++) s.push(`\tcase ${i}:\n\t\tif (a & ${i}) { pte_unmap_unlock(pte, ptl); started = 1; mmu_notifier_invalidate_range_start(mm, a, a + ${i}); }\n\t\tbreak;\n`);
    s.push('\t}\n\tif (started) mmu_notifier_invalidate_range_end(mm, a, a + 1);\n\treturn 0;\n}\n');
    return s.join('');
  },
  flags: (n) => {
    const s = ['int h(struct mm_struct *mm, unsigned long a, int *x)\n{\n'];
    for (let i = 0; i < n; i++) s.push(`\tint f${i} = 0;\n`);
    for (let i = 0; i < n; i++) s.push(`\tif (x[${i}]) { f${i} = 1; mmu_notifier_invalidate_range_start(mm, a, a + ${i}); }\n`);
    for (let i = 0; i < n; i++) s.push(`\tif (f${i}) mmu_notifier_invalidate_range_end(mm, a, a + ${i});\n`);
    s.push('\treturn 0;\n}\n');
    return s.join('');
  },
  and: (n) => `int m(struct mm_struct *mm, unsigned long a, int *x)\n{\n\tif (${Array.from({ length: n }, (_, i) => `x[${i}]`).join(' && ')})\n\t\tmmu_notifier_invalidate_range_start(mm, a, a + 1);\n\treturn 0;\n}\n`,
  nest: (n) => {
    const s = ['int k(struct mm_struct *mm, unsigned long a, int *x)\n{\n'];
    for (let i = 0; i < n; i++) s.push(`${'\t'.repeat((i % 40) + 1)}while (x[${i}]) {\n`);
    s.push('\tmmu_notifier_invalidate_range_start(mm, a, a + 1);\n');
    for (let i = 0; i < n; i++) s.push('\t}\n');
    s.push('\treturn 0;\n}\n');
    return s.join('');
  },
};

/** The sizes the issue measured (3,000 gotos ran for minutes; 5,000 cases took 11.5 s). */
export const SIZES = { gotos: 3000, switch: 5000, flags: 1500, and: 3000, nest: 300 };

export function generate(kind, n) {
  return `/* generated: ${kind} x ${n} (not kernel code) */\n${KINDS[kind](n)}`;
}

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin/notifier-audit.js');

/** Runs the CLI on one generated function: wall time, peak RSS (KB, from /usr/bin/time when present), exit, the note. */
export function runCli(kind, n, extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'na-patho-'));
  try {
    const file = join(dir, `${kind}${n}.c`);
    writeFileSync(file, generate(kind, n));
    const t0 = performance.now();
    const useTime = spawnSync('/usr/bin/time', ['--version']).status === 0;
    const r = useTime
      ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, '--format', 'json', ...extraArgs, file], { encoding: 'utf8', maxBuffer: 1 << 28 })
      : spawnSync(process.execPath, [CLI, '--format', 'json', ...extraArgs, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const ms = performance.now() - t0;
    const rssKb = useTime ? Number(r.stderr.trim().split('\n').pop()) : undefined;
    const out = r.stdout ? JSON.parse(r.stdout) : undefined;
    return { ms, rssKb, code: r.status, incomplete: out?.incomplete ?? [], findings: out?.findings.length ?? 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const BUDGET = 2000;
  console.log('| function | size | wall ms | wall / budget | peak RSS MB | outcome |\n|---|---|---|---|---|---|');
  for (const [kind, n] of Object.entries(SIZES)) {
    const r = runCli(kind, n);
    const outcome = r.incomplete.length ? `incomplete: ${r.incomplete[0].reason}` : `complete, ${r.findings} findings`;
    console.log(`| ${kind} | ${n} | ${Math.round(r.ms)} | ${(r.ms / BUDGET).toFixed(2)}x | ${r.rssKb ? Math.round(r.rssKb / 1024) : '?'} | ${outcome} |`);
  }
}
