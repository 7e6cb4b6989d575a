// The walk over a function's paths: a worklist over (node, state) pairs, bounded by a time budget, a number of visits
// and a number of distinct states per node (beyond which states with the same locks and ranges are joined).
import type { Cfg } from '../cfg/build';
import { cloneState, pushEvent, stateKey, type State, type Val } from './state';
import type { Liveness } from './graph';
import type { Prepared } from './prepare';
import type { Transfer } from './transfer';
import { branch } from './branch';
import type { AnalysisContext } from './analyze';
import { MAX_FACTS_PER_STATE, MAX_KEPT_STATES } from './budget';

const MAX_STATES_PER_NODE = 48;

export interface Exploration {
  /** The states that reached the function's exit. */
  exits: State[];
  visits: number;
  /** Why the walk stopped before it visited every state (a budget), if it did. */
  incomplete?: string;
}

/** Walks every path from `init` (within the budgets), applying `transfer` at nodes and `branch` on condition edges. */
export function explore(prep: Prepared, init: State, transfer: Transfer, ctx: AnalysisContext): Exploration {
  const { cfg, liveIn } = prep;
  const file = ctx.file;
  const exits: State[] = [];
  // Worklist over (node, state), FIFO so the first state to reach a point has one of the shortest paths.
  const work = new Worklist(cfg, init);
  let visits = 0;
  let incomplete: string | undefined;
  for (let item = work.next(); item; item = work.next()) {
    const [id, st] = item;
    visits++;
    if ((visits & 255) === 0 && ctx.budget?.spent()) {
      incomplete = `time budget of ${ctx.budgetMs} ms exceeded after ${visits} state visits`;
      break;
    }
    if (visits > ctx.maxVisits) {
      incomplete = `more than ${ctx.maxVisits} state visits`;
      break;
    }
    if (work.kept > MAX_KEPT_STATES) {
      incomplete = `memory bound: more than ${MAX_KEPT_STATES} path states kept after ${visits} state visits`;
      break;
    }
    const n = cfg.nodes[id];
    const s = cloneState(st);
    if (n.kind === 'exit') {
      exits.push(s);
      transfer.exit(s);
      continue;
    }
    transfer.node(s, n);
    for (let i = 0; i < n.succ.length; i++) {
      const e = n.succ[i];
      const s2 = i === n.succ.length - 1 ? s : cloneState(s);
      if (n.kind === 'cond') {
        if (!branch(prep, s2, n, e.kind)) continue;
        if (!n.preproc || true) pushEvent(s2, { file, line: n.line, column: (n.syntax?.startPosition.column ?? 0) + 1, event: 'branch', detail: `${n.label} -> ${e.kind}` });
      }
      dropDeadFacts(s2, liveIn, e.to);
      work.add(e.to, s2);
    }
  }
  return { exits, visits, incomplete };
}

/** Facts about variables that are dead at the target are dropped: they would only multiply states. */
function dropDeadFacts(s: State, liveIn: Liveness, to: number): void {
  if (!s.facts.size) return;
  if (s.facts.size > MAX_FACTS_PER_STATE) {
    // Bounded memory per state: the oldest facts are kept, the others forgotten (as at a join).
    s.facts = new Map([...s.facts].slice(0, MAX_FACTS_PER_STATE));
  }
  let dead = false;
  for (const k of s.facts.keys()) if (!liveIn.has(to, k)) { dead = true; break; }
  if (dead) {
    const kept = new Map<string, Val>();
    for (const [k, v] of s.facts) if (liveIn.has(to, k)) kept.set(k, v);
    s.facts = kept;
  }
}

/** The (node, state) pairs still to visit, FIFO, and the states already queued at each node. */
class Worklist {
  private readonly seen: Array<Map<string, true>>;
  private readonly joined: Array<Map<string, State> | undefined> = [];
  private readonly queue: Array<[number, State]>;
  private head = 0;
  /** States remembered at all nodes (the memory the walk holds). */
  kept = 0;

  constructor(cfg: Cfg, init: State) {
    this.seen = cfg.nodes.map(() => new Map());
    this.queue = [[cfg.entry, init]];
  }

  next(): [number, State] | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head++];
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  /** Queues `s` at node `to`, unless a state with the same key is already there (or the join learns nothing new). */
  add(to: number, s: State): void {
    let key = stateKey(s);
    const bucket = this.seen[to];
    if (bucket.has(key)) return;
    if (bucket.size >= MAX_STATES_PER_NODE) {
      // Too many distinct value facts here: join with the state that has the same locks and ranges, keeping only
      // the facts both agree on (a loop-invariant flag survives; facts that differ between paths are forgotten).
      const core = stateKey(s, false);
      const cores = this.joined[to] ?? (this.joined[to] = new Map());
      const prev = cores.get(core);
      if (prev) {
        const meet = new Map<string, Val>();
        for (const [k, v] of prev.facts) if (s.facts.get(k) === v) meet.set(k, v);
        if (meet.size === prev.facts.size) return; // nothing new
        s.facts = meet;
        key = stateKey(s);
        if (bucket.has(key)) return;
      }
      cores.set(core, s);
      if (bucket.size >= MAX_STATES_PER_NODE * 8) return;
    }
    bucket.set(key, true);
    this.kept++;
    this.queue.push([to, s]);
  }
}
