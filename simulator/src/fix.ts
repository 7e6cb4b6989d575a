// Rewrites a flagged witness path into the fixed one (the quick-fix's effect), and the subscriber-side fix for two open ranges.
import { notifierRole } from './replay';
import { fixSubscriberPath, isSubscriberRule } from './subscriber';
import type { PathEvent, Scenario } from './types';

export interface FixedPath {
  path: PathEvent[];
  scenario: Scenario;
  description: string;
}

function inserted(anchor: PathEvent, event: 'range_start' | 'range_end'): PathEvent {
  const callee = event === 'range_start' ? 'mmu_notifier_invalidate_range_start' : 'mmu_notifier_invalidate_range_end';
  return { file: anchor.file, line: anchor.line, column: anchor.column, event, callee, detail: `${callee} (inserted by the fix)` };
}

function lockOf(e: PathEvent): string {
  const n = (e.lock ?? e.detail ?? '').trim();
  return n === '' ? 'ptl' : n;
}

/** Index of the acquisition of each lock held just before index `at` (a stack walk over the path). */
function heldAt(path: PathEvent[], at: number): { lock: string; index: number }[] {
  const held: { lock: string; index: number }[] = [];
  for (let i = 0; i < at && i < path.length; i++) {
    const e = path[i] as PathEvent;
    if (e.event === 'lock') held.push({ lock: lockOf(e), index: i });
    else if (e.event === 'unlock') {
      const k = held.map((h) => h.lock).lastIndexOf(lockOf(e));
      if (k >= 0) held.splice(k, 1);
    }
  }
  return held;
}

function isChange(e: PathEvent): boolean {
  return e.event === 'set_pte_at_notify' || (e.event === 'notifier_call' && notifierRole(e) === 'change_pte');
}

/** Open ranges just before index `at`. */
function openRangesAt(path: PathEvent[], at: number): number {
  let open = 0;
  for (let i = 0; i < at && i < path.length; i++) {
    const e = path[i] as PathEvent;
    const role = e.event === 'notifier_call' ? notifierRole(e) : e.event;
    if (role === 'range_start') open += 1;
    else if (role === 'range_end') open = Math.max(0, open - 1);
  }
  return open;
}

/** Where a release of one of `locks` last happens after `from` (index of the unlock), or -1. */
function lastUnlockAfter(path: PathEvent[], from: number, locks: string[]): number {
  let j = -1;
  for (let i = from + 1; i < path.length; i++) {
    const e = path[i] as PathEvent;
    if (e.event === 'unlock' && locks.includes(lockOf(e))) j = i;
  }
  return j;
}

function beforeReturn(path: PathEvent[]): number {
  const k = path.map((e) => e.event).lastIndexOf('return');
  return k >= 0 ? k : path.length;
}

function bracketChange(path: PathEvent[]): { path: PathEvent[]; text: string } {
  const s = path.findIndex(isChange);
  if (s < 0) return { path, text: 'no set_pte_at_notify on the path: nothing to bracket' };
  if (openRangesAt(path, s) > 0) return { path, text: 'the PTE change is already inside an invalidation range' };
  const held = heldAt(path, s);
  const firstLock = held.length > 0 ? Math.min(...held.map((h) => h.index)) : -1;
  const entry = path.findIndex((e) => e.event === 'entry');
  const startAt = firstLock >= 0 ? firstLock : entry >= 0 ? entry + 1 : s;
  const unlock = lastUnlockAfter(path, s, held.map((h) => h.lock));
  const endAt = unlock >= 0 ? unlock + 1 : Math.max(s + 1, beforeReturn(path));
  const anchorStart = path[startAt] ?? (path[s] as PathEvent);
  const anchorEnd = path[endAt - 1] ?? (path[s] as PathEvent);
  const out = [...path.slice(0, startAt), inserted(anchorStart, 'range_start'), ...path.slice(startAt, endAt), inserted(anchorEnd, 'range_end'), ...path.slice(endAt)];
  return {
    path: out,
    text: `mmu_notifier_invalidate_range_start() ${firstLock >= 0 ? 'before the lock is taken' : 'before the PTE change'}, mmu_notifier_invalidate_range_end() ${unlock >= 0 ? 'after the lock is released' : 'after the PTE change'}`,
  };
}

function sleepsUnderLock(e: PathEvent): 'start' | 'end' | 'page' | null {
  if (e.event === 'range_start') return 'start';
  if (e.event === 'range_end') return 'end';
  if (e.event === 'sleep') return 'end';
  if (e.event !== 'notifier_call') return null;
  const role = notifierRole(e);
  if (role === 'range_start') return 'start';
  if (role === 'range_end') return 'end';
  if (role === 'invalidate_page') return e.maySleep === false ? null : 'page';
  if (role === 'other' && e.maySleep === true) return 'end';
  return null;
}

function moveOutOfLock(path: PathEvent[]): { path: PathEvent[]; text: string } {
  const keyed = path.map((e, i) => ({ e, key: i * 2 }));
  const extra: { e: PathEvent; key: number }[] = [];
  let moved = 0;
  const firstChange = path.findIndex((e) => isChange(e) || e.event === 'clear_flush_notify');
  path.forEach((e, i) => {
    const kind = sleepsUnderLock(e);
    if (!kind) return;
    const held = heldAt(path, i);
    if (held.length === 0) return;
    const lockAt = Math.min(...held.map((h) => h.index));
    const unlock = lastUnlockAfter(path, i, held.map((h) => h.lock));
    const after = (unlock >= 0 ? unlock * 2 + 1 : beforeReturn(path) * 2 - 1) + moved * 0.001;
    const before = lockAt * 2 - 1 + moved * 0.001;
    moved += 1;
    const item = keyed[i] as { e: PathEvent; key: number };
    if (kind === 'page') {
      // The v4.13 fix: invalidate_page in the locked walk becomes a range around the whole walk.
      item.key = before;
      item.e = inserted(e, 'range_start');
      extra.push({ e: inserted(e, 'range_end'), key: after });
    } else if (kind === 'start' || (firstChange >= 0 && i < firstChange)) item.key = before;
    else item.key = after;
  });
  if (moved === 0) return { path, text: 'no sleeping notifier call under the lock on the path' };
  const out = [...keyed, ...extra].sort((a, b) => a.key - b.key).map((x) => x.e);
  return { path: out, text: `${moved} sleeping notifier call(s) moved out of the page-table lock (range_start before the lock, the rest after the unlock), the bracket still around the PTE change` };
}

function balanceRanges(path: PathEvent[]): { path: PathEvent[]; text: string } {
  const out: PathEvent[] = [];
  let open = 0;
  let dropped = 0;
  for (const e of path) {
    const role = e.event === 'notifier_call' ? notifierRole(e) : e.event;
    if (role === 'range_end' && open === 0) {
      dropped += 1;
      continue;
    }
    if (role === 'range_start') open += 1;
    if (role === 'range_end') open -= 1;
    out.push(e);
  }
  const k = beforeReturn(out);
  const anchor = out[k] ?? out[out.length - 1];
  const closing = anchor ? Array.from({ length: open }, () => inserted(anchor, 'range_end')) : [];
  return { path: [...out.slice(0, k), ...closing, ...out.slice(k)], text: `${open} range_end added before the return, ${dropped} unmatched range_end dropped` };
}

export function fixPath(rule: string, path: PathEvent[], scenario: Scenario): FixedPath {
  if (isSubscriberRule(rule)) return fixSubscriberPath(rule, path, scenario);
  let r: { path: PathEvent[]; text: string };
  if (rule === 'notifier-under-ptl') r = moveOutOfLock(path);
  else if (rule === 'range-imbalance') r = balanceRanges(path);
  else r = bracketChange(path);
  let description = r.text;
  let fixedScenario = scenario;
  if (scenario.subscribers.some((s) => s.kind === 'sva')) {
    const k = r.path.findIndex(isChange);
    const prev = k > 0 ? r.path[k - 1] : undefined;
    if (k >= 0 && prev?.event !== 'clear_flush_notify') {
      const at = r.path[k] as PathEvent;
      const clear: PathEvent = { file: at.file, line: at.line, column: at.column, event: 'clear_flush_notify', detail: 'ptep_clear_flush_notify (inserted by the fix)' };
      r = { path: [...r.path.slice(0, k), clear, ...r.path.slice(k)], text: r.text };
      description += '; the old PTE is cleared with ptep_clear_flush_notify() so that an SVA-like subscriber (no range callbacks) flushes its IOTLB before the change';
    }
  }
  if (scenario.subscribers.some((s) => s.kvmMode === 'install')) {
    fixedScenario = { ...scenario, subscribers: scenario.subscribers.map((s) => (s.kvmMode === 'install' ? { ...s, guardCountOne: true } : s)) };
    description += "; the KVM-like subscriber acts on change_pte only when exactly one range is open (the count-must-be-1 guard)";
  }
  return { path: r.path, scenario: fixedScenario, description };
}
