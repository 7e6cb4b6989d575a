// Checking a quick-fix before it is offered: the rewritten function is analysed again, and the fix must remove what
// the finding names without adding any other lock or range problem, and without new parse errors.
import type { FunctionAnalysis } from '../dataflow/analyze';
import type { Node } from '../parse/syntax';
import type { Finding } from './types';

/** What a rewrite check needs of a (scratch) project. */
export interface ScratchProject {
  setFile(file: string, text: string): void;
  analyzeOne(file: string, name: string): FunctionAnalysis | undefined;
  analyze(only?: Iterable<string>): { findings: Finding[] };
  parsedFile(file: string): { tree: { rootNode: { hasError: boolean } } } | undefined;
  dispose(): void;
}

/** An mm-side fix: the function alone is analysed before and after (see rewriteIsClean). */
export function checkFunctionRewrite(scratch: ScratchProject, file: string, fnName: string, rule: string, old: string, newText: string): { ok: boolean; reason?: string } {
  try {
    const counts = (text: string): ProblemCounts => {
      scratch.setFile(file, text);
      const fa = scratch.analyzeOne(file, fnName);
      return problemCounts(fa, fa?.fn.node);
    };
    return rewriteIsClean(rule, counts(old), counts(newText));
  } finally {
    scratch.dispose();
  }
}

/**
 * A subscriber fix: the file, with `others` (whose callees the walk follows), is analysed before and after; the rule
 * must report less in that file, no other subscriber rule more, and the parse must not get worse.
 */
export function checkSubscriberRewrite(scratch: ScratchProject, file: string, rule: string, old: string, newText: string, others: Array<{ file: string; text: string }>): { ok: boolean; reason?: string } {
  try {
    for (const o of others) scratch.setFile(o.file, o.text);
    const counts = (text: string): { own: number; other: number; errors: number } => {
      scratch.setFile(file, text);
      const r = scratch.analyze([file]);
      return { own: r.findings.filter((f) => f.rule === rule && f.file === file).length, other: r.findings.filter((f) => f.rule !== rule).length, errors: scratch.parsedFile(file)?.tree.rootNode.hasError ? 1 : 0 };
    };
    const a = counts(old);
    const b = counts(newText);
    if (b.errors > a.errors) return { ok: false, reason: 'the rewrite does not parse' };
    if (b.other > a.other) return { ok: false, reason: 'the rewrite adds another subscriber problem' };
    if (b.own >= a.own) return { ok: false, reason: 'the rewrite does not remove the finding' };
    return { ok: true };
  } finally {
    scratch.dispose();
  }
}

/** What a function's analysis shows, counted by the rule each observation feeds. */
export interface ProblemCounts {
  unbracketed: number;
  underLock: number;
  imbalance: number;
  parseErrors: number;
}

export function problemCounts(fa: FunctionAnalysis | undefined, root: Node | undefined): ProblemCounts {
  const c: ProblemCounts = { unbracketed: 0, underLock: 0, imbalance: 0, parseErrors: root ? errorCount(root) : 0 };
  for (const o of fa?.observations ?? []) {
    if (o.kind === 'changePte' && o.ranges.length === 0) c.unbracketed++;
    else if (o.kind === 'sleeping' && o.locks.length > 0) c.underLock++;
    else if (o.kind === 'rangeEndUnopened' || o.kind === 'exitRangeOpen') c.imbalance++;
  }
  return c;
}

/** The rule's own problem is gone (rule A) or fewer (the others), and nothing else got worse. */
export function rewriteIsClean(rule: string, before: ProblemCounts, after: ProblemCounts): { ok: boolean; reason?: string } {
  if (after.parseErrors > before.parseErrors) return { ok: false, reason: `${after.parseErrors - before.parseErrors} new parse errors` };
  const own = rule === 'unbracketed-change-pte' ? 'unbracketed' : rule === 'notifier-under-ptl' ? 'underLock' : 'imbalance';
  for (const k of ['unbracketed', 'underLock', 'imbalance'] as const) {
    if (k === own) continue;
    if (after[k] > before[k]) return { ok: false, reason: `the rewrite adds a ${k === 'underLock' ? 'sleeping call under a lock' : k === 'imbalance' ? 'range imbalance' : 'PTE change outside a range'}` };
  }
  if (own === 'unbracketed' ? after.unbracketed > 0 : after[own] >= before[own]) return { ok: false, reason: 'the rewrite does not remove the finding' };
  return { ok: true };
}

function errorCount(n: Node, depth = 0): number {
  if (depth > 2000) return 0;
  // MISSING nodes are the zero-width leaves tree-sitter inserts.
  let k = n.type === 'ERROR' || (n.startIndex === n.endIndex && n.childCount === 0) ? 1 : 0;
  const cnt = n.childCount;
  for (let i = 0; i < cnt; i++) {
    const ch = n.child(i);
    if (ch) k += errorCount(ch, depth + 1);
  }
  return k;
}
