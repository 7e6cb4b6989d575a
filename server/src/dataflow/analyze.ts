// Path-sensitive analysis of one function: walks the CFG with bounded sets of lock/range/value states, emits observations.
//
// The phases, each in its own module:
// - prepare.ts: the CFG, each node's operations, and what the walk needs in advance (lock-pointer variables, the
//   conditions that decide something, variables and conditions worth facts, liveness; CFG algorithms in graph.ts);
// - transfer.ts: what a node's calls, assignments and returns do to a path state (notifier calls, lock and unlock
//   helpers, spin locks, callees' summaries), recording observations and lock sites in the sink (sink.ts);
// - branch.ts: what taking a condition's true or false edge tells, and whether the edge is possible;
// - explore.ts: the worklist over (node, state) pairs, with its budgets and the join of states;
// - summarize.ts: the function's summary for its callers, from the states at its exit.
// Value facts (what an expression evaluates to, pure conditions) are in values.ts, path states in state.ts.
import type { Cfg } from '../cfg/build';
import type { FunctionInfo, Node } from '../parse/syntax';
import type { KernelModel, NotifierInfo } from '../kernel/model';
import type { LockContract } from '../parse/prepass';
import type { Ev, State } from './state';
import type { Summary } from './summary';
import { prepare, type Prepared } from './prepare';
import { MAX_OBSERVATIONS, Sink } from './sink';
import { Transfer, entryState } from './transfer';
import { explore } from './explore';
import { summarize } from './summarize';

export { enclosingStatement, posOf } from './position';
export { PURE_PREDICATE } from './values';

import { Budget, BudgetExceeded } from './budget';

export type ObsKind = 'changePte' | 'sleeping' | 'rangeEndUnopened' | 'exitRangeOpen';

export interface Observation {
  kind: ObsKind;
  at: Ev;
  /** Syntax node of the call (or of the function for exit observations). */
  node: Node;
  locks: State['locks'];
  ranges: State['ranges'];
  pending: Ev | null;
  path: Ev[];
  callee?: string;
  /** Set when the effect comes from a called function's summary. */
  via?: string;
  /** File and name of the called function whose summary gave the effect ("file\0name"). */
  viaKey?: string;
  viaPath?: Ev[];
  /** For a PTE change: the set_pte_at_notify() call itself, however deep in the call chain. */
  origin?: Ev;
  notifier?: NotifierInfo;
}

export interface FunctionAnalysis {
  fn: FunctionInfo;
  file: string;
  cfg: Cfg;
  observations: Observation[];
  summary: Summary;
  incomplete?: string;
  /** Names of called functions whose summaries were used (non-trivial). */
  usedSummaries: string[];
  visits: number;
  /** Every place a page-table lock is taken or released (for quick-fixes). */
  lockSites: Array<{ kind: 'lock' | 'unlock'; key: string; ev: Ev }>;
}

export interface AnalysisContext {
  /** Bounds every phase of this function's analysis (made from budgetMs when absent). */
  budget?: Budget;
  model: KernelModel;
  file: string;
  text: string;
  contracts: LockContract[];
  /** Summary of a called function, computed on demand; undefined for unknown functions. */
  summaryOf: (name: string) => Summary | undefined;
  budgetMs: number;
  maxVisits: number;
}

/** Analyses one function. */
export function analyzeFunction(fn: FunctionInfo, ctx0: AnalysisContext): FunctionAnalysis {
  const ctx: AnalysisContext = ctx0.budget ? ctx0 : { ...ctx0, budget: new Budget(ctx0.budgetMs) };
  const file = ctx.file;
  let prep: Prepared;
  try {
    prep = prepare(fn, ctx);
  } catch (e) {
    if (!(e instanceof BudgetExceeded)) throw e;
    // Nothing was walked: no observation, and a summary with no effect (callers are analysed without it).
    return {
      fn, file, cfg: { nodes: [], entry: 0, exit: 0 } as unknown as Prepared['cfg'], observations: [], incomplete: e.reason, usedSummaries: [], visits: 0, lockSites: [],
      summary: { name: fn.name, file, line: fn.line, isStatic: fn.isStatic, acquires: [], releases: [], rangeDelta: 0 },
    };
  }
  const sink = new Sink();
  const init = entryState(fn, ctx);
  const run = explore(prep, init, new Transfer(fn, ctx, prep, sink), ctx);
  // Locks held on entry: by contract, or asserted held (lockdep_assert_held()) somewhere in the function.
  const entryLocks = init.locks.concat([...sink.entryAsserted].map((key) => ({ key, site: init.trail!.ev, onEntry: true })));
  return {
    fn,
    file,
    cfg: prep.cfg,
    observations: sink.observations,
    summary: summarize(fn, file, run.exits, sink.observations, sink.releasedUnheld, entryLocks, sink.opensRange,
      (sink.rangeRequires ?? []).map((p) => fn.params.indexOf(p))),
    incomplete: run.incomplete ?? (sink.truncated ? `more than ${MAX_OBSERVATIONS} observations (the rest are not reported)` : undefined),
    usedSummaries: [...sink.usedSummaries],
    visits: run.visits,
    lockSites: sink.lockSites,
  };
}
