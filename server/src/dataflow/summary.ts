// Function summaries: what a call to a function does to the caller's locks and ranges, in parameter-relative terms.
import type { Ev } from './state';

export interface SummaryLock {
  /** Parameter-relative key: "$3", "*$3", "$0->ptl", "$ret", or "opaque:<fn>:<key>". */
  key: string;
  /** Held after the call: always, or only when the return value is non-zero / zero. */
  cond: 'always' | 'nonzero' | 'zero';
  site: Ev;
}

export interface Summary {
  name: string;
  file: string;
  line: number;
  isStatic: boolean;
  acquires: SummaryLock[];
  /** Parameter-relative keys of locks the function releases without having taken them. */
  releases: string[];
  /** +1: returns with a range it opened still open; -1: ends a range it did not open. */
  rangeDelta: number;
  rangeSite?: Ev;
  /** The delta holds on every path (a begin/end helper by design), rather than on some paths only. */
  rangeDeltaConsistent?: boolean;
  /**
   * A conditional begin helper: the range is left open exactly when the function returns zero (or non-zero), as
   * __follow_pte_pmd() with a range argument (v4.15 to v5.x) returns 0 with the lock held and the range started.
   */
  rangeCond?: 'zero' | 'nonzero';
  /** Parameter indices the conditional range depends on (`if (start && end) range_start()`): NULL there, no range. */
  rangeIfArgs?: number[];
  /** Reaches set_pte_at_notify with no range of its own open (the caller must bracket). */
  changePte?: { site: Ev; path: Ev[]; origin?: Ev };
  /** Reaches a may-sleep notifier call without holding a page-table lock itself. */
  sleeps?: { site: Ev; callee: string; path: Ev[] };
}

/** Leaves a range open on some paths only, with no return value that says so: a leak, reported in the function. */
export function leaksRange(s: Summary): boolean {
  return s.rangeDelta > 0 && !s.rangeDeltaConsistent && !s.rangeCond;
}

/** Does something to a caller's locks or ranges, or calls set_pte_at_notify() or a notifier that may sleep. */
export function hasEffect(s: Summary): boolean {
  return !!(s.acquires.length || s.releases.length || s.rangeDelta || s.changePte || s.sleeps);
}

/** Has an effect that matters to callers even when they hold no lock (so callers must be analysed). */
export function escapes(s: Summary): boolean {
  return s.rangeDelta !== 0 || !!s.changePte || !!s.sleeps;
}

export function summaryFingerprint(s: Summary): string {
  return JSON.stringify([s.acquires.map((a) => [a.key, a.cond]), s.releases, s.rangeDelta, s.rangeCond ?? '', s.rangeIfArgs ?? [], !!s.changePte, !!s.sleeps]);
}

/** Replaces a parameter reference ($i) in a summary key by the caller's argument text, then normalises. */
export function substituteKey(key: string, args: string[], lhs: string | undefined, callee: string, norm: (s: string) => string): string {
  if (key === '$ret') return lhs ?? `${callee}()`;
  if (key.startsWith('opaque:')) return key;
  const m = /^(\*?)\$(\d+)(.*)$/.exec(key);
  if (!m) return key;
  const arg = args[Number(m[2])];
  if (arg === undefined) return `opaque:${callee}:${key}`;
  const a = arg.replace(/\s+/g, '');
  return norm(`${m[1]}(${a})${m[3]}`);
}
