// The walks of interval-sequence and register-under-mmap-lock: breadth-first over (CFG node, state) pairs from the
// function's entry, and the witness path of the chain of nodes that reached a pair.
import { DRIVER_LOCK, DRIVER_TRYLOCK, DRIVER_UNLOCK } from '../kernel/subscriber';
import { normExpr } from '../parse/syntax';
import type { CallOp } from '../dataflow/ops';
import type { PathEvent } from '../engine/types';
import type { FnRef, Graph } from './walk';

/** Lock and unlock calls, also through a driver's `*_lock()`/`*_unlock()` wrappers. */
export const isLockName = (n: string): boolean => DRIVER_LOCK.test(n) || (/_lock$/.test(n) && !/unlock|trylock|^lockdep/.test(n));
export const isUnlockName = (n: string): boolean => DRIVER_UNLOCK.test(n) || /_unlock$/.test(n);

/**
 * Visits each (node, state) pair reachable from the entry once, breadth first (so the chain to a pair is a shortest
 * one). `visit` runs the node's operations from `state`: it returns the state each outgoing edge carries (by edge
 * kind), or undefined to stop the walk. `chain()` gives the node ids from the entry to this pair.
 */
export function walkStates<S>(
  g: Graph,
  init: S,
  key: (s: S) => string,
  tick: () => void,
  visit: (id: number, state: S, chain: () => number[]) => { next: (edgeKind: string) => S } | undefined,
  maxPairs = Infinity,
): void {
  const parent = new Map<string, string | null>();
  const first = `${g.cfg.entry}|${key(init)}`;
  parent.set(first, null);
  const queue: Array<{ id: number; state: S; k: string }> = [{ id: g.cfg.entry, state: init, k: first }];
  for (let qi = 0; qi < queue.length && qi < maxPairs; qi++) {
    const { id, state, k } = queue[qi];
    tick();
    const chain = (): number[] => {
      const ids: number[] = [];
      for (let c: string | null | undefined = k; c; c = parent.get(c)) ids.push(Number(c.slice(0, c.indexOf('|'))));
      return ids.reverse();
    };
    const r = visit(id, state, chain);
    if (!r) return;
    for (const e of g.cfg.nodes[id].succ) {
      const ns = r.next(e.kind);
      const nk = `${e.to}|${key(ns)}`;
      if (parent.has(nk)) continue;
      parent.set(nk, k);
      queue.push({ id: e.to, state: ns, k: nk });
    }
  }
}

/** Witness path along a chain of CFG node ids: lock, unlock and interval-notifier calls, and the branches taken. */
export function pathFromChain(ref: FnRef, g: Graph, chain: number[]): PathEvent[] {
  const ev: PathEvent[] = [{ event: 'entry', file: ref.file, line: ref.fn.line, column: 1, detail: ref.fn.name }];
  for (let i = 0; i < chain.length; i++) {
    const n = g.cfg.nodes[chain[i]];
    for (const op of g.ops[chain[i]]) {
      if (op.k !== 'call') continue;
      const p = op.node.startPosition;
      const at = { file: ref.file, line: p.row + 1, column: p.column + 1 };
      if (isLockName(op.name) || (DRIVER_TRYLOCK.test(op.name) && op.isCondAtom)) ev.push({ ...at, event: 'lock', lock: op.args[0] ? normExpr(op.args[0].text) : op.name, detail: op.name });
      else if (isUnlockName(op.name)) ev.push({ ...at, event: 'unlock', lock: op.args[0] ? normExpr(op.args[0].text) : op.name, detail: op.name });
      else if (/^mmu_interval_|^mmu_notifier_register$|^mmu_interval_notifier_insert$/.test(op.name)) ev.push({ ...at, event: 'call', callee: op.name });
    }
    const next = chain[i + 1];
    if (n.kind === 'cond' && n.syntax && next !== undefined) {
      const e = n.succ.find((x) => x.to === next);
      if (e && (e.kind === 'true' || e.kind === 'false')) ev.push({ event: 'branch', file: ref.file, line: n.syntax.startPosition.row + 1, column: n.syntax.startPosition.column + 1, detail: `${n.label} -> ${e.kind}` });
    }
  }
  return ev.length > 200 ? [ev[0], ...ev.slice(ev.length - 199)] : ev;
}

/** A path whose last node holds the flagged call: that call once, at the end, with what it does. */
export function endingAt(path: PathEvent[], file: string, op: CallOp, detail: string): PathEvent[] {
  const p = op.node.startPosition;
  const out = path.filter((e) => !(e.event === 'call' && e.line === p.row + 1 && e.column === p.column + 1));
  out.push({ event: 'call', file, line: p.row + 1, column: p.column + 1, callee: op.name, detail });
  return out;
}
