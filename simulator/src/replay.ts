// Compiles a witness path into the model operations a path thread replays (one operation = one interleavable step).
import type { PathEvent, SourcePos, SubscriberSpec } from './types';

export type Op =
  | { k: 'nop'; text: string }
  | { k: 'lock'; lock: string }
  | { k: 'unlock'; lock: string }
  | { k: 'range_open'; blockable: boolean }
  | { k: 'cb_start'; sub: string }
  | { k: 'cb_end'; sub: string }
  | { k: 'range_close' }
  | { k: 'clear_pte'; notify: boolean }
  | { k: 'change_pte'; clearFirst: boolean }
  | { k: 'set_pte' }
  | { k: 'put_old' }
  | { k: 'inv_page'; blockable: boolean }
  | { k: 'cb_page'; sub: string }
  | { k: 'inv_range' }
  | { k: 'sleep'; text: string }
  | { k: 'blockable_call'; name: string }
  | { k: 'zap_pte' }
  | { k: 'put_zapped' }
  // Subscriber-side scenarios (subscriber.ts):
  /** Non-block depth change of the thread (non_block_start()/non_block_end() around the OOM reaper's callbacks). */
  | { k: 'nonblock'; delta: number; text: string; release?: string[] }
  /** Takes a lock if it is free, else fails and jumps to failPc (mutex_trylock/spin_trylock: never waits). */
  | { k: 'trylock'; lock: string; failPc: number }
  /** Waits (may sleep) until nobody holds res (free memory, a completion, an invalidation in progress), then goes on. */
  | { k: 'await'; res: string; text: string; waitText: string }
  /** Releases a resource the thread holds (frees memory, signals a completion). */
  | { k: 'drop'; res: string; text: string }
  /** seq = mmu_interval_read_begin(): waits while res (the notifier's invalidation) is in progress, reads the sequence. */
  | { k: 'seq_begin'; sub: string; res: string }
  /** hmm_range_fault()/get_user_pages(): reads the page the CPU page table maps (no reference kept). */
  | { k: 'seq_fault' }
  /** mmu_interval_read_retry(): on a changed sequence release `release` and restart at restartPc, unless ignored. */
  | { k: 'seq_retry'; sub: string; ignore: boolean; restartPc: number; release: string[] }
  /** The device page table is programmed with the page read by seq_fault. */
  | { k: 'commit'; sub: string }
  /** mmu_interval_set_seq(): the notifier's sequence moves, and its invalidation is in progress (res held). */
  | { k: 'set_seq'; sub: string; res: string }
  /** The invalidate callback zaps the device mapping. */
  | { k: 'dev_zap'; sub: string }
  /** The end of the invalidation for the notifier: in-progress resource released, the subscriber's open range closed. */
  | { k: 'sub_end'; sub: string; res: string };

export interface CompiledOp {
  op: Op;
  /** Event name shown in the trace. */
  event: string;
  source?: SourcePos;
  /** The next operation when this one completes (default: the following one). */
  jump?: number;
}

export interface Program {
  ops: CompiledOp[];
  /** Locks the path holds on entry (an unlock with no lock before it: __releases / __must_hold). */
  heldOnEntry: string[];
  /** The lock the concurrent actors contend on: the first page-table lock the path names. */
  ptl: string;
}

const DEFAULT_PTL = 'ptl';

function lockName(e: PathEvent): string {
  const n = (e.lock ?? e.detail ?? '').trim();
  return n === '' ? DEFAULT_PTL : n;
}

function pos(e: PathEvent): SourcePos {
  return { file: String(e.file ?? ''), line: Number(e.line) || 0, column: Number(e.column) || 0 };
}

type Role = 'range_start' | 'range_end' | 'invalidate_page' | 'invalidate_range' | 'change_pte' | 'young' | 'other';

/** What a notifier_call does, from its callee name. */
export function notifierRole(e: PathEvent): Role {
  const c = `${e.callee ?? ''} ${e.detail ?? ''}`.toLowerCase();
  if (c.includes('range_start')) return 'range_start';
  if (c.includes('range_end') || c.includes('range_only_end')) return 'range_end';
  if (c.includes('invalidate_page')) return 'invalidate_page';
  if (c.includes('young')) return 'young';
  if (c.includes('change_pte')) return 'change_pte';
  if (c.includes('invalidate_range') || c.includes('clear_flush_notify') || c.includes('secondary_tlbs')) return 'invalidate_range';
  return 'other';
}

/** The first lock name the path takes or releases (the PTL the other actors contend on). */
export function findPtl(path: PathEvent[]): string {
  const e = path.find((x) => x.event === 'lock' || x.event === 'unlock');
  return e ? lockName(e) : DEFAULT_PTL;
}

/** Subscribers that get range_start/range_end callbacks (SVA-like ones only get invalidate_range). */
function rangeSubs(subs: SubscriberSpec[]): SubscriberSpec[] {
  return subs.filter((s) => s.kind !== 'sva');
}

export function compilePath(path: PathEvent[], subs: SubscriberSpec[], invalidateRangeAtEnd: boolean): Program {
  const ops: CompiledOp[] = [];
  const held: string[] = [];
  const heldOnEntry: string[] = [];
  let depth = 0;
  let pendingPut = false;
  let lastWasClear = false;
  const add = (op: Op, event: string, e: PathEvent | undefined): void => {
    ops.push(e ? { op, event, source: pos(e) } : { op, event });
  };
  const rangeStart = (e: PathEvent, name: string): void => {
    add({ k: 'range_open', blockable: !/nonblock/i.test(e.detail ?? '') }, name, e);
    for (const s of rangeSubs(subs)) add({ k: 'cb_start', sub: s.id }, `${name} -> ${s.id}.invalidate_range_start`, e);
    depth += 1;
  };
  const rangeEnd = (e: PathEvent, name: string): void => {
    for (const s of subs) {
      if (s.kind !== 'sva') add({ k: 'cb_end', sub: s.id }, `${name} -> ${s.id}.invalidate_range_end`, e);
      else if (invalidateRangeAtEnd) add({ k: 'cb_end', sub: s.id }, `${name} -> ${s.id}.invalidate_range`, e);
    }
    add({ k: 'range_close' }, `${name} returns`, e);
    depth = Math.max(0, depth - 1);
    if (depth === 0 && pendingPut) {
      add({ k: 'put_old' }, 'put_page(OLD)', e);
      pendingPut = false;
    }
  };
  for (const e of path) {
    const wasClear = lastWasClear;
    lastWasClear = false;
    const ev = String(e.event);
    switch (ev) {
      case 'lock': {
        const l = lockName(e);
        held.push(l);
        add({ k: 'lock', lock: l }, `lock ${l}`, e);
        break;
      }
      case 'unlock': {
        const l = lockName(e);
        const i = held.lastIndexOf(l);
        if (i >= 0) held.splice(i, 1);
        else if (!heldOnEntry.includes(l)) heldOnEntry.push(l);
        add({ k: 'unlock', lock: l }, `unlock ${l}`, e);
        break;
      }
      case 'range_start':
        rangeStart(e, 'range_start');
        break;
      case 'range_end':
        rangeEnd(e, 'range_end');
        break;
      case 'clear_flush_notify':
        add({ k: 'clear_pte', notify: true }, 'ptep_clear_flush_notify', e);
        lastWasClear = true;
        break;
      case 'clear_flush':
        add({ k: 'clear_pte', notify: false }, e.detail ?? 'clear and flush the entry', e);
        lastWasClear = true;
        break;
      case 'set_pte_at_notify':
        // Without a visible clear before it, the old PTE's clear and the notification form one step: a
        // window between them would let a writable device translation write a page KSM already write-protected.
        add({ k: 'change_pte', clearFirst: !wasClear }, wasClear ? 'set_pte_at_notify: change_pte' : 'clear old PTE + set_pte_at_notify: change_pte', e);
        add({ k: 'set_pte' }, 'set_pte_at_notify: set_pte_at(NEW)', e);
        if (depth > 0) pendingPut = true;
        else add({ k: 'put_old' }, 'put_page(OLD)', e);
        break;
      case 'notifier_call': {
        const name = e.callee ?? e.detail ?? 'notifier';
        const role = notifierRole(e);
        if (role === 'range_start') rangeStart(e, name);
        else if (role === 'range_end') rangeEnd(e, name);
        else if (role === 'invalidate_page') {
          add({ k: 'inv_page', blockable: e.maySleep !== false }, name, e);
          for (const s of subs) add({ k: 'cb_page', sub: s.id }, `${name} -> ${s.id}.invalidate_page`, e);
        } else if (role === 'invalidate_range') add({ k: 'inv_range' }, name, e);
        else if (role === 'change_pte') add({ k: 'change_pte', clearFirst: false }, name, e);
        else if (role === 'other' && e.maySleep === true) add({ k: 'blockable_call', name }, name, e);
        else add({ k: 'nop', text: `${name} (cannot sleep; no state change)` }, name, e);
        break;
      }
      case 'sleep':
        add({ k: 'sleep', text: e.callee ?? e.detail ?? 'a call that may sleep' }, `sleep: ${e.callee ?? e.detail ?? 'may sleep'}`, e);
        break;
      default: {
        const what = e.detail ?? e.callee ?? '';
        add({ k: 'nop', text: what === '' ? `${ev} (no state change)` : `${ev} ${what} (no state change)` }, what === '' ? ev : `${ev} ${what}`, e);
      }
    }
  }
  // A bracket never closed on the path: the old page's put still happens at the end.
  if (pendingPut) add({ k: 'put_old' }, 'put_page(OLD)', path[path.length - 1]);
  return { ops, heldOnEntry, ptl: findPtl(path) };
}

/** The concurrent munmap-like invalidation: range_start, zap the PTE under the PTL, free the page, range_end. */
export function invalidationProgram(subs: SubscriberSpec[], ptl: string, invalidateRangeAtEnd: boolean): CompiledOp[] {
  const ops: CompiledOp[] = [{ op: { k: 'range_open', blockable: true }, event: 'munmap: range_start' }];
  for (const s of rangeSubs(subs)) ops.push({ op: { k: 'cb_start', sub: s.id }, event: `munmap: range_start -> ${s.id}.invalidate_range_start` });
  ops.push({ op: { k: 'lock', lock: ptl }, event: `munmap: lock ${ptl}` });
  ops.push({ op: { k: 'zap_pte' }, event: 'munmap: zap_pte_range (clear PTE, flush)' });
  ops.push({ op: { k: 'unlock', lock: ptl }, event: `munmap: unlock ${ptl}` });
  ops.push({ op: { k: 'put_zapped' }, event: 'munmap: free the unmapped page' });
  for (const s of subs) {
    if (s.kind !== 'sva') ops.push({ op: { k: 'cb_end', sub: s.id }, event: `munmap: range_end -> ${s.id}.invalidate_range_end` });
    else if (invalidateRangeAtEnd) ops.push({ op: { k: 'cb_end', sub: s.id }, event: `munmap: range_end -> ${s.id}.invalidate_range` });
  }
  ops.push({ op: { k: 'range_close' }, event: 'munmap: range_end returns' });
  return ops;
}
