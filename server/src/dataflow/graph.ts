// CFG algorithms of the preparation phase: conditions that decide something, post-dominators, liveness of fact keys.
import type { Cfg } from '../cfg/build';
import { conditionIdentifiers, type CallOp, type Op } from './ops';
import type { CondKey } from './prepare';

/**
 * Conditions whose two branches reach different sets of effect nodes (lock, unlock, range and notifier operations,
 * calls with such summaries, and the exit) before coming back to the condition: the conditions that decide
 * something. Loop counters and tests that only choose between effect-free code never split states.
 */
export function relevantConds(cfg: Cfg, ops: Op[][], isEffect: (op: CallOp) => boolean, tick: () => void = noTick): Set<number> {
  const n = cfg.nodes.length;
  const effect = new Uint8Array(n);
  for (const node of cfg.nodes) if (node.kind === 'exit' || ops[node.id].some((op) => op.k === 'call' && isEffect(op))) effect[node.id] = 1;
  const ipdom = postDominators(cfg, tick);
  const mark = new Int32Array(n).fill(-1);
  const out = new Set<number>();
  for (const node of cfg.nodes) {
    if (node.kind !== 'cond' || node.preproc || node.succ.length < 2) continue;
    // The region a condition decides: what its branches reach before they meet again (its immediate post-dominator)
    // or come back to it (a loop). An effect there means the condition decides something.
    const stop = ipdom[node.id];
    const stack = node.succ.map((e) => e.to);
    let found = false;
    while (stack.length && !found) {
      tick();
      const id = stack.pop()!;
      if (id === node.id || id === stop || id < 0 || id >= n || mark[id] === node.id) continue;
      mark[id] = node.id;
      if (effect[id]) found = true;
      else for (const e of cfg.nodes[id].succ) stack.push(e.to);
    }
    if (found) out.add(node.id);
  }
  return out;
}

/** Predecessor lists of the CFG's nodes (edges to nodes outside the graph are ignored). */
function predecessors(cfg: Cfg): number[][] {
  const n = cfg.nodes.length;
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (const node of cfg.nodes) for (const e of node.succ) if (e.to >= 0 && e.to < n) preds[e.to].push(node.id);
  return preds;
}

/** Immediate post-dominators (Cooper, Harvey and Kennedy's iterative algorithm on the reversed graph); -1 where none. */
export function postDominators(cfg: Cfg, tick: () => void = noTick): Int32Array {
  const n = cfg.nodes.length;
  const { order, num } = reversedGraphPostOrder(cfg, predecessors(cfg));
  const idom = new Int32Array(n).fill(-1);
  idom[cfg.exit] = cfg.exit;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (num[a] < num[b]) a = idom[a];
      while (num[b] < num[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true, rounds = 0; changed && rounds < 100; rounds++) {
    changed = false;
    for (let i = order.length - 1; i >= 0; i--) {
      tick();
      const b = order[i];
      if (b === cfg.exit) continue;
      let d = -1;
      for (const e of cfg.nodes[b].succ) {
        const s = e.to;
        if (s < 0 || s >= n || idom[s] === -1) continue;
        d = d === -1 ? s : intersect(s, d);
      }
      if (d !== -1 && idom[b] !== d) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  idom[cfg.exit] = -1;
  return idom;
}

/** Post-order of the reversed graph from the exit (`order`), and each node's number in it (`num`, -1 if unreached). */
function reversedGraphPostOrder(cfg: Cfg, preds: number[][]): { order: number[]; num: Int32Array } {
  const n = cfg.nodes.length;
  const order: number[] = [];
  const num = new Int32Array(n).fill(-1);
  const seen = new Uint8Array(n);
  const stack: Array<[number, number]> = [[cfg.exit, 0]];
  seen[cfg.exit] = 1;
  while (stack.length) {
    const top = stack[stack.length - 1];
    const ps = preds[top[0]];
    if (top[1] < ps.length) {
      const p = ps[top[1]++];
      if (!seen[p]) {
        seen[p] = 1;
        stack.push([p, 0]);
      }
    } else {
      num[top[0]] = order.length;
      order.push(top[0]);
      stack.pop();
    }
  }
  return { order, num };
}

/** Live variables and condition keys at each CFG node's entry (bit sets over the keys facts can be about). */
export interface Liveness {
  has(node: number, key: string): boolean;
}

/** Bit sets of W 32-bit words per CFG node. */
const setBit = (a: Uint32Array, W: number, node: number, i: number): void => {
  a[node * W + (i >> 5)] |= 1 << (i & 31);
};
const bit = (a: Uint32Array, W: number, node: number, i: number): boolean => ((a[node * W + (i >> 5)] >>> (i & 31)) & 1) === 1;

/**
 * Backward liveness of fact keys (tracked variables and pure-condition keys): a fact is kept only where some path
 * reads it before it is overwritten.
 */
export function computeLiveness(cfg: Cfg, ops: Op[][], tracked: Set<string>, condKeyOf: Map<number, CondKey | null>,
  condVars: Map<string, Set<string>>, tick: () => void = noTick): Liveness {
  // Facts are only ever about tracked variables and condition keys: they are the universe of the bit sets.
  const index = new Map<string, number>();
  for (const t of tracked) index.set(t, index.size);
  for (const ck of condKeyOf.values()) if (ck && !index.has(ck.key)) index.set(ck.key, index.size);
  const W = Math.max(1, (index.size + 31) >> 5);
  const { use, def } = useDef(cfg, ops, tracked, condKeyOf, condVars, index, W);
  const live = solveLiveness(cfg, use, def, W, tick);
  return {
    has(node: number, key: string): boolean {
      const i = index.get(key);
      return i !== undefined && bit(live, W, node, i);
    },
  };
}

/** Keys each node reads (`use`) and overwrites before reading them (`def`). */
function useDef(cfg: Cfg, ops: Op[][], tracked: Set<string>, condKeyOf: Map<number, CondKey | null>, condVars: Map<string, Set<string>>,
  index: Map<string, number>, W: number): { use: Uint32Array; def: Uint32Array } {
  const n = cfg.nodes.length;
  const use = new Uint32Array(n * W);
  const def = new Uint32Array(n * W);
  const ids = new Set<string>();
  for (const node of cfg.nodes) {
    const id = node.id;
    if (node.syntax) {
      ids.clear();
      conditionIdentifiers(node.syntax, ids);
      for (const v of ids) if (tracked.has(v)) setBit(use, W, id, index.get(v)!);
      // Calls may read any tracked variable through their arguments (range_start(mm, start, end)).
    }
    const ck = condKeyOf.get(id);
    if (ck) setBit(use, W, id, index.get(ck.key)!);
    for (const op of ops[id]) {
      if (op.k !== 'assign') continue;
      if (op.op === '=' || op.op === 'decl') {
        const t = index.get(op.target);
        if (t !== undefined && !bit(use, W, id, t)) setBit(def, W, id, t);
      }
      const keys = condVars.get(op.target);
      if (keys) {
        for (const k of keys) {
          const t = index.get(k);
          if (t !== undefined && !bit(use, W, id, t)) setBit(def, W, id, t);
        }
      }
    }
  }
  return { use, def };
}

const noTick = (): void => undefined;

/** The backward fixpoint: live-in = use | (live-out & ~def), live-out the union of the successors' live-in. */
function solveLiveness(cfg: Cfg, use: Uint32Array, def: Uint32Array, W: number, tick: () => void): Uint32Array {
  const n = cfg.nodes.length;
  const live = new Uint32Array(n * W);
  const preds = predecessors(cfg);
  const work: number[] = [];
  const inWork = new Uint8Array(n);
  // Popped from the end: the last nodes first, the order in which a backward problem settles fastest.
  for (let i = 0; i < n; i++) { work.push(i); inWork[i] = 1; }
  const out = new Uint32Array(W);
  while (work.length) {
    tick();
    const id = work.pop()!;
    inWork[id] = 0;
    out.fill(0);
    for (const e of cfg.nodes[id].succ) {
      if (e.to < 0 || e.to >= n) continue;
      for (let w = 0; w < W; w++) out[w] |= live[e.to * W + w];
    }
    let changed = false;
    for (let w = 0; w < W; w++) {
      const inn = (use[id * W + w] | (out[w] & ~def[id * W + w])) >>> 0;
      if (inn !== live[id * W + w]) {
        live[id * W + w] = inn;
        changed = true;
      }
    }
    if (changed) for (const p of preds[id]) if (!inWork[p]) { inWork[p] = 1; work.push(p); }
  }
  return live;
}
