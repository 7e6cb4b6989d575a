// What the walk records besides path states: observations for the rules, lock sites for quick-fixes, and what the
// function's summary needs (locks released without being held, summaries used, ranges opened, locks asserted held).
import type { Node } from '../parse/syntax';
import { trailToPath, type Ev, type State } from './state';
import type { FunctionAnalysis, ObsKind, Observation } from './analyze';

/** Observations one function keeps. */
export const MAX_OBSERVATIONS = 200;

/** The records of one function's walk, shared by its transfer functions and read back by analyzeFunction. */
export class Sink {
  readonly observations: Observation[] = [];
  private readonly obsSeen = new Set<string>();
  /** Every place a page-table lock is taken or released (for quick-fixes). */
  readonly lockSites: FunctionAnalysis['lockSites'] = [];
  private readonly lockSiteSeen = new Set<string>();
  /** Locks released on a path that does not hold them: the caller's (page-table locks, or released by a callee). */
  readonly releasedUnheld = new Set<string>();
  /** Names of called functions whose summaries were used (non-trivial). */
  readonly usedSummaries = new Set<string>();
  /** Locks that lockdep_assert_held() and the like say the caller holds. */
  readonly entryAsserted = new Set<string>();
  /** The function opens a range itself. */
  opensRange = false;
  /** Parameters known non-zero at every range start of the function (undefined until the first one). */
  rangeRequires: string[] | undefined;
  /** More observations than MAX_OBSERVATIONS were made (the rest were dropped: the analysis is incomplete). */
  truncated = false;

  /** Records an observation, once per kind, place, callee summary and "a lock held" (sleeping) or "a range open". */
  observe(s: State, kind: ObsKind, at: Ev, node: Node, extra?: Partial<Observation>): void {
    const k = `${kind}@${at.line}:${at.column}:${extra?.via ?? ''}:${kind === 'sleeping' ? s.locks.length > 0 : s.ranges.length > 0}`;
    if (this.obsSeen.has(k)) return;
    this.obsSeen.add(k);
    // A real function has a handful; a generated one can have thousands, each with a long path: bounded.
    if (this.observations.length >= MAX_OBSERVATIONS) {
      this.truncated = true;
      return;
    }
    this.observations.push({ kind, at, node, locks: s.locks, ranges: s.ranges, pending: s.pending, path: trailToPath(s.trail), ...extra });
  }

  /** Records a place where a lock is taken or released (once per kind, lock and offset). */
  noteSite(kind: 'lock' | 'unlock', key: string, ev: Ev): void {
    const k = `${kind}:${key}:${ev.offset}`;
    if (this.lockSiteSeen.has(k)) return;
    this.lockSiteSeen.add(k);
    this.lockSites.push({ kind, key, ev });
  }
}
