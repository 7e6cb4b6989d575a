// A function's summary from the end of its walk: the locks it returns holding, the caller's locks it releases, the
// range it leaves open or ends, and whether it changes a PTE or sleeps with no lock or range of its own.
import type { FunctionInfo } from '../parse/syntax';
import type { Ev, State } from './state';
import type { Summary, SummaryLock } from './summary';
import type { Observation } from './analyze';

/** A key in the terms of the function's parameters ("$1->ptl", "*$3"), or undefined when it names no parameter. */
export function paramRelative(key: string, fn: FunctionInfo): string | undefined {
  const m = /^(\*?)([A-Za-z_]\w*)(.*)$/.exec(key);
  if (!m) return undefined;
  const i = fn.params.indexOf(m[2]);
  return i >= 0 ? `${m[1]}$${i}${m[3]}` : undefined;
}

export function summarize(fn: FunctionInfo, file: string, exits: State[], obs: Observation[], releasedUnheld: Set<string>, entryLocks: State['locks'], opensRange: boolean,
  rangeIfArgs: number[]): Summary {
  const acquires = acquiredLocks(fn, exits);
  const releases = releasedLocks(fn, exits, releasedUnheld, entryLocks);
  const { rangeDelta, rangeSite, rangeDeltaConsistent, rangeCond } = rangeEffect(exits, obs, opensRange, rangeIfArgs);
  const cp = obs.find((o) => o.kind === 'changePte' && o.ranges.length === 0);
  const sl = obs.find((o) => o.kind === 'sleeping' && o.locks.length === 0);
  return {
    name: fn.name,
    file,
    line: fn.line,
    isStatic: fn.isStatic,
    acquires,
    releases,
    rangeDelta,
    rangeSite,
    rangeDeltaConsistent,
    rangeCond,
    rangeIfArgs: rangeCond && rangeIfArgs.length ? rangeIfArgs : undefined,
    changePte: cp ? { site: cp.at, path: cp.path, origin: cp.origin ?? cp.at } : undefined,
    sleeps: sl ? { site: sl.at, callee: sl.callee ?? '', path: sl.path } : undefined,
  };
}

/** Locks some exit still holds (not held on entry): always, or only when the function returns zero / non-zero. */
function acquiredLocks(fn: FunctionInfo, exits: State[]): SummaryLock[] {
  const acquires: SummaryLock[] = [];
  const keys = new Map<string, Ev>();
  for (const s of exits) for (const l of s.locks) if (!l.onEntry && !keys.has(l.key)) keys.set(l.key, l.site);
  for (const [key, site] of keys) {
    const holding = exits.filter((s) => s.locks.some((l) => l.key === key));
    const rel = paramRelative(key, fn) ?? (holding.some((s) => s.ret === `lock:${key}`) ? '$ret' : `opaque:${fn.name}:${key}`);
    let cond: SummaryLock['cond'];
    if (holding.length === exits.length && holding.every((s) => !s.locks.find((l) => l.key === key)!.guard)) cond = 'always';
    else if (holding.every((s) => s.ret === 'zero' || s.ret?.startsWith('g:falsy'))) cond = 'zero';
    else cond = 'nonzero';
    acquires.push({ key: rel, cond, site });
  }
  return acquires;
}

/** The caller's locks the function releases: released while not held, or held on entry and gone at some exit. */
function releasedLocks(fn: FunctionInfo, exits: State[], releasedUnheld: Set<string>, entryLocks: State['locks']): string[] {
  const releases: string[] = [];
  for (const k of releasedUnheld) {
    const rel = paramRelative(k, fn);
    if (rel) releases.push(rel);
  }
  // Locks held on entry (contracts) and released on some path: the caller's lock.
  for (const l of entryLocks) {
    // A lock the caller holds, named through a parameter ($i) or only known as "the caller's lock" ($held).
    const rel = paramRelative(l.key, fn) ?? '$held';
    if (exits.some((s) => !s.locks.some((x) => x.key === l.key)) && !releases.includes(rel)) releases.push(rel);
  }
  return releases;
}

type RangeEffect = Pick<Summary, 'rangeDelta' | 'rangeSite' | 'rangeDeltaConsistent' | 'rangeCond'>;

/** +1 when some exit leaves a range of the function's own open, -1 when it ends a range it never opened, else 0. */
function rangeEffect(exits: State[], obs: Observation[], opensRange: boolean, rangeIfArgs: number[]): RangeEffect {
  let rangeDelta = 0;
  let rangeSite: Ev | undefined;
  let rangeDeltaConsistent = false;
  let rangeCond: Summary['rangeCond'];
  // Ranges leaked by callees are reported there and do not travel further up.
  const openRanges = (s: State): number => s.ranges.filter((r) => !r.leaked).length;
  const open = exits.find((s) => openRanges(s) > 0);
  if (open) {
    rangeDelta = 1;
    const own = open.ranges.filter((r) => !r.leaked);
    rangeSite = own[own.length - 1].site;
    rangeDeltaConsistent = exits.every((s) => openRanges(s) > 0);
    if (!rangeDeltaConsistent) rangeCond = conditionalRange(exits, openRanges, rangeIfArgs);
  } else {
    const unopened = obs.find((o) => o.kind === 'rangeEndUnopened');
    if (unopened) {
      rangeDelta = -1;
      rangeSite = unopened.at;
      // An end helper by design ends the caller's range on every path and opens none itself.
      rangeDeltaConsistent = !opensRange && exits.length > 0 && exits.every((s) => s.under);
    }
  }
  return { rangeDelta, rangeSite, rangeDeltaConsistent, rangeCond };
}

/**
 * Open exactly on the paths that return 0 (or a guard variable that is 0 when the range is open), closed on the
 * others: a conditional begin helper, like a lock helper that returns 0 with the lock held.
 */
function conditionalRange(exits: State[], openRanges: (s: State) => number, rangeIfArgs: number[]): Summary['rangeCond'] {
  const retClass = (s: State): string => (s.ret === 'zero' || s.ret?.startsWith('g:falsy') ? 'zero' : s.ret === 'nonzero' || s.ret?.startsWith('g:truthy') ? 'nonzero' : s.ret === 'error' ? 'error' : 'unknown');
  const withRange = exits.filter((s) => openRanges(s) > 0).map(retClass);
  const without = exits.filter((s) => openRanges(s) === 0).map(retClass);
  // A success without a range is allowed when the range depends on arguments (none asked for: none opened).
  const asked = rangeIfArgs.length > 0;
  // (An error return with the range open is a leak on the error path, never the helper's way of saying "started".)
  if (withRange.every((c) => c === 'zero') && without.every((c) => c === 'nonzero' || c === 'error' || (asked && c === 'zero'))) return 'zero';
  if (withRange.every((c) => c === 'nonzero') && without.every((c) => c === 'zero' || (asked && c === 'nonzero'))) return 'nonzero';
  return undefined;
}
