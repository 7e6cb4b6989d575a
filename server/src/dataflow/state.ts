// Path states of the dataflow: held page-table locks, open invalidate ranges, value facts, and the witness trail.
import type { PathEvent } from '../engine/types';

/** When a lock is held only if a value says so (pte != NULL, walk() returned true, follow_pte() returned 0). */
export interface Guard {
  /** Variable holding the helper's return value. */
  v?: string;
  /** CFG node id of the condition whose atom is the helper call. */
  node?: number;
  polarity: 'truthy' | 'falsy';
}

/** A PathEvent plus the offsets of the statement it belongs to (used by quick-fixes, stripped from output). */
export interface Ev extends PathEvent {
  stmtStart?: number;
  stmtEnd?: number;
  offset?: number;
}

export interface HeldLock {
  key: string;
  site: Ev;
  guard?: Guard;
  /** Held on entry (lock contract or caller's lock released here). */
  onEntry?: boolean;
}

export interface OpenRange {
  site: Ev;
  /** range_start_nonblock(): open only if it returned 0. */
  guard?: Guard;
  /**
   * Opened by a callee that leaves it open on some paths only, without a return value that says so: a leak reported
   * in that callee. The caller may still end it, but is not reported for leaving it open (one report, at the source).
   */
  leaked?: boolean;
}

export type Val = number | string;

export interface Trail {
  ev: Ev;
  prev: Trail | null;
  len: number;
}

export interface State {
  locks: HeldLock[];
  ranges: OpenRange[];
  facts: Map<string, Val>;
  /** A set_pte_at_notify done inside a range that is still open. */
  pending: Ev | null;
  /** A range was ended on this path that this function never opened (a caller's range, or a bug). */
  under?: boolean;
  /** Return-value class at a return statement: 'zero' | 'nonzero' | 'unknown' | a guard variable. */
  ret?: string;
  trail: Trail | null;
}

export const MAX_RANGES = 3;
// Small: flags and short counters; loop counters go unknown after a few iterations instead of multiplying states.
const FACT_MIN = -1;
const FACT_MAX = 2;

export function clampFact(v: number): number | undefined {
  return Number.isInteger(v) && v >= FACT_MIN && v <= FACT_MAX ? v : undefined;
}

export function stateKey(s: State, withFacts = true): string {
  let k = '';
  for (const l of s.locks) k += `${l.key}${l.guard ? `?${l.guard.v ?? '#' + l.guard.node}${l.guard.polarity[0]}` : ''}${l.onEntry ? '^' : ''},`;
  k += `|${s.ranges.map((r) => (r.guard ? `g${r.guard.v ?? '#' + r.guard.node}` : r.leaked ? 'l' : 'r')).join('')}${s.under ? 'u' : ''}|${s.pending ? `${s.pending.line}:${s.pending.column}` : ''}|${s.ret ?? ''}|`;
  if (withFacts && s.facts.size) {
    const keys = [...s.facts.keys()].sort();
    for (const f of keys) k += `${f}=${s.facts.get(f)};`;
  }
  return k;
}

export function cloneState(s: State): State {
  return { locks: s.locks.slice(), ranges: s.ranges.slice(), facts: new Map(s.facts), pending: s.pending, under: s.under, ret: s.ret, trail: s.trail };
}

export function pushEvent(s: State, ev: Ev): void {
  s.trail = { ev, prev: s.trail, len: (s.trail?.len ?? 0) + 1 };
}

/** Events a witness path keeps whole: beyond this, only the events that change locks, ranges or PTEs are kept early on. */
export const MAX_PATH_EVENTS = 1000;
const SIGNIFICANT = new Set(['entry', 'lock', 'unlock', 'range_start', 'range_end', 'set_pte_at_notify', 'clear_flush_notify', 'notifier_call', 'call']);

/**
 * The witness path of a trail. A very long one (thousands of branches in a generated function) keeps its last
 * MAX_PATH_EVENTS events whole and, before them, only the significant events (entry, locks, ranges, notifier calls):
 * enough to replay and to read, in bounded memory.
 */
export function trailToPath(t: Trail | null): Ev[] {
  const out: Ev[] = [];
  let n = 0;
  for (let c = t; c; c = c.prev) {
    if (n++ < MAX_PATH_EVENTS || SIGNIFICANT.has(c.ev.event)) out.push(c.ev);
  }
  return out.reverse();
}

export function addLock(s: State, l: HeldLock): void {
  const locks = s.locks.filter((x) => x.key !== l.key);
  locks.push(l);
  locks.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  s.locks = locks;
}

export function removeLock(s: State, key: string): HeldLock | undefined {
  const i = s.locks.findIndex((x) => x.key === key);
  if (i < 0) return undefined;
  const l = s.locks[i];
  s.locks = s.locks.slice(0, i).concat(s.locks.slice(i + 1));
  return l;
}
