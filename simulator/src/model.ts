// The model kernel's state (threads, locks, primary PTE, pages, subscribers) with canonical keys and snapshots.
import type { PteView, Snapshot } from './types';

/** One address is modelled: the one the flagged path changes. Pages: OLD (mapped at start) and NEW (what set_pte_at_notify installs). */
export const ADDR = 'addr';

export interface ThreadState {
  id: string;
  /** Index of the next operation (path threads) or protocol step (fault handlers). */
  pc: number;
  preempt: number;
  nonBlock: number;
  held: string[];
  blockedOn: string | null;
  /** Fault handler: sequence number read at the start of the attempt (-1: none). */
  seq: number;
  /** Fault handler: page read from the primary PTE; munmap: page it zapped. */
  page: string | null;
  writable: boolean;
}

export interface PageState {
  id: string;
  refcount: number;
  mapcount: number;
  /** The process has mapped this page at some point (so "no longer maps" can be told from "not yet"). */
  wasMapped: boolean;
  state: 'live' | 'freed' | 'reused';
  content: string;
}

export interface SubState {
  id: string;
  /** Owners (thread ids) of the ranges whose range_start callback this subscriber has seen and whose range_end it has not. */
  open: string[];
  seq: number;
  shadow: PteView | null;
  /** Page pinned by the shadow translation (ODP pins what it maps). */
  pinned: string | null;
}

export interface SimState {
  threads: ThreadState[];
  locks: Record<string, string | null>;
  pte: PteView | null;
  pages: PageState[];
  subs: SubState[];
  /** Open invalidation ranges at mm level (owner thread ids), from the range_start call to the end of range_end. */
  ranges: string[];
  /** Device actors: accesses left. */
  devices: { id: string; left: number }[];
}

export function newThread(id: string, held: string[] = [], preempt = 0): ThreadState {
  return { id, pc: 0, preempt, nonBlock: 0, held: [...held], blockedOn: null, seq: -1, page: null, writable: false };
}

export function cloneState(s: SimState): SimState {
  return {
    threads: s.threads.map((t) => ({ ...t, held: [...t.held] })),
    locks: { ...s.locks },
    pte: s.pte ? { ...s.pte } : null,
    pages: s.pages.map((p) => ({ ...p })),
    subs: s.subs.map((u) => ({ ...u, open: [...u.open], shadow: u.shadow ? { ...u.shadow } : null })),
    ranges: [...s.ranges],
    devices: s.devices.map((d) => ({ ...d })),
  };
}

const p2 = (p: PteView | null): string => (p ? `${p.page}${p.writable ? 'w' : 'r'}` : '-');

/**
 * Canonical key of a state. Page content is left out: it only narrates what happened (the invariants and
 * every future step ignore it), so states that differ only there are the same state for the search.
 */
export function stateKey(s: SimState): string {
  let k = p2(s.pte);
  for (const t of s.threads) k += `|${t.id}:${t.pc},${t.preempt},${t.nonBlock},${t.held.join('+')},${t.blockedOn ?? ''},${t.seq},${t.page ?? ''},${t.writable ? 1 : 0}`;
  for (const l in s.locks) k += `|${l}=${s.locks[l] ?? ''}`;
  for (const p of s.pages) k += `|${p.id}:${p.refcount},${p.mapcount},${p.wasMapped ? 1 : 0},${p.state}`;
  for (const u of s.subs) k += `|${u.id}:${u.open.join('+')},${u.seq},${p2(u.shadow)},${u.pinned ?? ''}`;
  k += `|R${s.ranges.join('+')}`;
  for (const d of s.devices) k += `|${d.id}:${d.left}`;
  return k;
}

export function thread(s: SimState, id: string): ThreadState {
  const t = s.threads.find((x) => x.id === id);
  if (!t) throw new Error(`no thread ${id}`);
  return t;
}

export function page(s: SimState, id: string): PageState | undefined {
  return s.pages.find((p) => p.id === id);
}

export function sub(s: SimState, id: string): SubState {
  const u = s.subs.find((x) => x.id === id);
  if (!u) throw new Error(`no subscriber ${id}`);
  return u;
}

/** Drops one reference; a page whose last reference goes is freed. Returns a text of what happened. */
export function putPage(s: SimState, id: string): string {
  const p = page(s, id);
  if (!p) return `put_page(${id}): no such page`;
  if (p.refcount <= 0) return `put_page(${id}): refcount already 0 (nothing to drop)`;
  p.refcount -= 1;
  if (p.refcount === 0 && p.state === 'live') {
    p.state = 'freed';
    return `put_page(${id}): refcount 1->0, ${id} is FREED (back to the page allocator)`;
  }
  return `put_page(${id}): refcount ${p.refcount + 1}->${p.refcount}`;
}

export function getPage(s: SimState, id: string): void {
  const p = page(s, id);
  if (p) p.refcount += 1;
}

export function describePte(p: PteView | null): string {
  return p ? `${p.page} (${p.writable ? 'writable' : 'read-only'})` : 'none';
}

/** Wait-for graph: a thread waiting for a lock waits for its holder. Returns a cycle of thread ids, or null. */
export function waitCycle(s: SimState): string[] | null {
  const next = new Map<string, string>();
  for (const t of s.threads) {
    if (t.blockedOn === null) continue;
    const holder = s.locks[t.blockedOn];
    if (holder) next.set(t.id, holder);
  }
  for (const start of next.keys()) {
    const seen: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && !seen.includes(cur)) {
      seen.push(cur);
      cur = next.get(cur);
    }
    if (cur !== undefined && cur === start) return seen;
  }
  return null;
}

export function snapshot(s: SimState): Snapshot {
  return {
    pte: s.pte ? { ...s.pte } : null,
    shadow: s.subs.map((u) => ({ subscriber: u.id, pte: u.shadow ? { ...u.shadow } : null, openRanges: u.open.length, seq: u.seq })),
    pages: s.pages.map((p) => ({ id: p.id, refcount: p.refcount, mapcount: p.mapcount, state: p.state, content: p.content })),
    locks: Object.keys(s.locks).map((l) => ({ lock: l, holder: s.locks[l] ?? null })),
    threads: s.threads.map((t) => ({ id: t.id, preempt: t.preempt, held: [...t.held], blockedOn: t.blockedOn, ...(t.nonBlock > 0 ? { nonBlock: t.nonBlock } : {}) })),
    openRanges: [...s.ranges],
  };
}
