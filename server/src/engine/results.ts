// Per-function results of the mm-side analysis, as the project caches them, and their rebasing when a function only
// moved (an edit above it) so that the cached analysis is reused.
import type { FunctionInfo } from '../parse/syntax';
import type { Summary } from '../dataflow/summary';
import type { PteCall } from './placement';
import type { Finding } from './types';

export interface FnResult {
  name: string;
  file: string;
  line: number;
  /** Offset of the definition when analysed (rebasing moves everything by the difference). */
  start: number;
  end: number;
  summary: Summary;
  findings: Array<{ f: Finding; defer: boolean; pte?: { viaKey?: string }; downgrade?: boolean }>;
  /** Calls of functions that change a PTE unbracketed, for the placement of those findings. */
  pteCalls: PteCall[];
  incomplete?: string;
  deps: Map<string, string>;
  used: string[];
  ms: number;
}

/**
 * Moves a cached result to where its (unchanged) function now is: lines and offsets of everything inside the
 * function's old extent in its file shift; columns do not change, since the function's own text did not.
 */
export function rebase(r: FnResult, fn: FunctionInfo): FnResult {
  const dl = fn.line - r.line;
  const doff = fn.start - r.start;
  const firstLine = r.line;
  const lastLine = r.line + (fn.endLine - fn.line);
  const inside = (o: { file: string; line: number }): boolean => o.file === r.file && o.line >= firstLine && o.line <= lastLine;
  const mv = <T extends { file: string; line: number; offset?: number; stmtStart?: number; stmtEnd?: number }>(o: T): T => {
    if (!inside(o)) return o;
    const c = { ...o, line: o.line + dl };
    if (c.offset !== undefined) c.offset += doff;
    if (c.stmtStart !== undefined) c.stmtStart += doff;
    if (c.stmtEnd !== undefined) c.stmtEnd += doff;
    return c;
  };
  const findings = r.findings.map(({ f, defer, pte, downgrade }) => {
    const g: Finding = {
      ...f,
      line: f.line + dl,
      endLine: f.endLine + dl,
      related: f.related.map(mv),
      path: f.path.map(mv),
    };
    if (f.fix) {
      const fx = { ...f.fix };
      fx.startInsertOffset += doff;
      fx.endInsertOffsets = fx.endInsertOffsets.map((x) => x + doff);
      fx.declInsertOffset += doff;
      if (fx.stmtStart !== undefined) fx.stmtStart += doff;
      if (fx.stmtEnd !== undefined) fx.stmtEnd += doff;
      if (fx.lockStmtOffset !== undefined) fx.lockStmtOffset += doff;
      if (fx.unlockStmtEndOffsets) fx.unlockStmtEndOffsets = fx.unlockStmtEndOffsets.map((x) => x + doff);
      if (fx.macro) fx.macro = { ...fx.macro, nameOffset: fx.macro.nameOffset + doff, splitEnds: fx.macro.splitEnds.map((x) => x + doff) };
      g.fix = fx;
    }
    return { f: g, defer, pte, downgrade };
  });
  const sm = r.summary;
  const summary: Summary = {
    ...sm,
    line: fn.line,
    acquires: sm.acquires.map((a) => ({ ...a, site: mv(a.site) })),
  };
  if (sm.rangeSite) summary.rangeSite = mv(sm.rangeSite);
  if (sm.changePte) summary.changePte = { site: mv(sm.changePte.site), path: sm.changePte.path.map(mv), origin: sm.changePte.origin && mv(sm.changePte.origin) };
  if (sm.sleeps) summary.sleeps = { ...sm.sleeps, site: mv(sm.sleeps.site), path: sm.sleeps.path.map(mv) };
  const pteCalls = r.pteCalls.map((c) => {
    const [l, col] = c.site.split(':').map(Number);
    return l >= firstLine && l <= lastLine ? { ...c, site: `${l + dl}:${col}` } : c;
  });
  return { ...r, line: fn.line, start: fn.start, end: fn.end, findings, summary, pteCalls };
}

