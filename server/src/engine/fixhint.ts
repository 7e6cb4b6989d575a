// Computes the facts a quick-fix needs (where to open and close the range, where locals go) from a function's analysis.
import type { FunctionAnalysis, Observation } from '../dataflow/analyze';
import type { FixHint } from './types';
import { callArgs, namedChildren } from '../parse/syntax';

function lineStart(text: string, offset: number): number {
  const i = text.lastIndexOf('\n', offset - 1);
  return i + 1;
}

function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  return i < 0 ? text.length : i + 1;
}

function indentAt(text: string, offset: number): string {
  const s = lineStart(text, offset);
  return /^[ \t]*/.exec(text.slice(s, s + 200))![0];
}

export function computeFixHint(fa: FunctionAnalysis, obs: Observation, rule: string, text: string): FixHint | undefined {
  const body = fa.fn.body;
  const stmts = namedChildren(body).filter((c) => c.type !== 'comment');
  let declEnd = body.startIndex + 1;
  for (const c of stmts) {
    if (c.type !== 'declaration') break;
    declEnd = c.endIndex;
  }
  const declInsertOffset = lineEnd(text, declEnd);
  const firstStmt = stmts[0];
  const indent = firstStmt ? indentAt(text, firstStmt.startIndex) : '\t';
  const fnText = text.slice(fa.fn.start, fa.fn.end);
  const vma = /\bvma\b/.test(fnText) ? 'vma' : /\bvmf\b/.test(fnText) ? 'vmf->vma' : /\bpvmw\b/.test(fnText) ? 'pvmw.vma' : undefined;
  const at = obs.at;
  const flaggedStmtStart = at.stmtStart ?? at.offset ?? 0;
  const flaggedStmtEnd = at.stmtEnd ?? flaggedStmtStart;
  const lock = obs.locks[obs.locks.length - 1];
  const args = obs.node.type === 'call_expression' && !obs.via ? callArgs(obs.node).map((a) => a.text) : [];

  if (rule === 'unbracketed-change-pte') {
    const anchor = lock && !lock.onEntry && lock.site.stmtStart !== undefined ? lock.site.stmtStart : flaggedStmtStart;
    const ends: number[] = [];
    if (lock && !lock.onEntry) {
      for (const s of fa.lockSites) {
        if (s.kind === 'unlock' && s.key === lock.key && (s.ev.stmtStart ?? 0) > anchor) ends.push(lineEnd(text, s.ev.stmtEnd ?? 0));
      }
    }
    if (ends.length === 0) ends.push(lineEnd(text, flaggedStmtEnd));
    return {
      kind: 'insert-range',
      startInsertOffset: lineStart(text, anchor),
      endInsertOffsets: [...new Set(ends)].sort((a, b) => a - b),
      declInsertOffset,
      indent,
      args,
      vma,
    };
  }
  if (rule === 'notifier-under-ptl' && lock) {
    // Out of the locked section means after the point where every held lock has been released (several PTLs can be
    // held: src_ptl and dst_ptl), or before the first of them was taken.
    const held = obs.locks.filter((l) => !l.onEntry);
    const firstUnlockOf = (key: string): number | undefined => {
      const offs = fa.lockSites
        .filter((x) => x.kind === 'unlock' && x.key === key && (x.ev.stmtStart ?? 0) > flaggedStmtStart)
        .map((x) => lineEnd(text, x.ev.stmtEnd ?? 0));
      return offs.length ? Math.min(...offs) : undefined;
    };
    const ends = held.map((l) => firstUnlockOf(l.key));
    const allReleased = ends.length && ends.every((x) => x !== undefined) ? [Math.max(...(ends as number[]))] : [];
    const firstLock = held.length ? Math.min(...held.map((l) => l.site.stmtStart ?? flaggedStmtStart)) : undefined;
    // A *_notify macro (pmdp_clear_flush_notify, ptep_clear_flush_notify before v3.19) that sleeps: split, not moved.
    const exp = obs.notifier?.expansion ?? '';
    const name = obs.callee ?? '';
    let macro: FixHint['macro'];
    if (!obs.via && /_notify$/.test(name) && !/^mmu_notifier_/.test(name) && held.length === 1 && obs.node.type === 'call_expression') {
      const kind = /range_start/.test(exp) && /range_end/.test(exp) ? 'range' : /invalidate_page/.test(exp) ? 'page' : undefined;
      const fnNode = obs.node.childForFieldName('function');
      if (kind && fnNode) {
        // The unlocks that end this locked section: after the lock, before the same lock is taken again.
        const key = held[0].key;
        const relocks = fa.lockSites.filter((x) => x.kind === 'lock' && x.key === key && (x.ev.stmtStart ?? 0) > flaggedStmtStart).map((x) => x.ev.stmtStart ?? 0);
        const until = relocks.length ? Math.min(...relocks) : Infinity;
        const splitEnds = fa.lockSites
          .filter((x) => x.kind === 'unlock' && x.key === key && (x.ev.stmtStart ?? 0) > (held[0].site.stmtStart ?? 0) && (x.ev.stmtStart ?? 0) < until)
          .map((x) => lineEnd(text, x.ev.stmtEnd ?? 0));
        macro = { name, plain: name.replace(/_notify$/, ''), nameOffset: fnNode.startIndex, kind, huge: /^pmdp_|^pudp_/.test(name), splitEnds: [...new Set(splitEnds)].sort((a, b) => a - b) };
      }
    }
    return {
      macro,
      kind: 'move-out-of-lock',
      startInsertOffset: lineStart(text, firstLock ?? lock.site.stmtStart ?? flaggedStmtStart),
      endInsertOffsets: allReleased,
      declInsertOffset,
      indent,
      args,
      stmtStart: lineStart(text, flaggedStmtStart),
      stmtEnd: lineEnd(text, flaggedStmtEnd),
      lockStmtOffset: held.length === obs.locks.length && firstLock !== undefined ? lineStart(text, firstLock) : undefined,
      unlockStmtEndOffsets: allReleased,
      vma,
    };
  }
  return undefined;
}
