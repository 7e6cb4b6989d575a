// Preparation phase of a function's analysis: its CFG and operations, and what the walk needs to know in advance
// (lock-pointer variables, conditions that decide something, variables and conditions worth facts, liveness).
import { CfgBuilder, type Cfg } from '../cfg/build';
import { extractOps, conditionIdentifiers, type CallOp, type Op } from './ops';
import { unwrap, normExpr, type FunctionInfo, type Node } from '../parse/syntax';
import type { KernelModel } from '../kernel/model';
import { SPIN_LOCK, SPIN_TRYLOCK, SPIN_UNLOCK, LOCKPTR } from '../kernel/model';
import { hasEffect } from './summary';
import { computeLiveness, relevantConds, type Liveness } from './graph';
import { hasSideEffects, trackableIds } from './values';
import type { AnalysisContext } from './analyze';

/** The fact key of a pure condition, and whether the condition is its negation (`a != b` is `!(a == b)`). */
export interface CondKey {
  key: string;
  negate: boolean;
}

/** Everything the walk over a function's paths knows before it starts. */
export interface Prepared {
  cfg: Cfg;
  /** Operations of each CFG node, by node id. */
  ops: Op[][];
  /** Variables assigned a page-table lock pointer (ptl = pte_lockptr(...)). */
  ptlVars: Set<string>;
  /** Conditions that decide a lock/range/notifier operation (relevantConds). */
  relevant: Set<number>;
  /** Variables whose values are worth facts. */
  tracked: Set<string>;
  /** Variables holding a lock helper's result: their tests decide whether the lock is held. */
  guardVars: Set<string>;
  /** Fact key of each relevant pure condition tested at two places or more (null for the others). */
  condKeyOf: Map<number, CondKey | null>;
  /** Condition keys by the variables they read: an assignment to one forgets them. */
  condVars: Map<string, Set<string>>;
  /** How many relevant conditions test each identifier. */
  varTests: Map<string, number>;
  /** Locals set to constants somewhere: flags. */
  flagVars: Set<string>;
  /** Fact keys live at each node's entry. */
  liveIn: Liveness;
  /** `mm` is the function's own mm (a parameter, or `mm = vma->vm_mm`). */
  mmLocal: boolean;
}

/** Builds the CFG of `fn` and everything the walk needs about it. */
export function prepare(fn: FunctionInfo, ctx: AnalysisContext): Prepared {
  const model = ctx.model;
  const budget = ctx.budget;
  const cfg = new CfgBuilder((n) => model.isNoreturn(n)).build(fn.name, fn.body);
  budget?.check('building the control-flow graph');
  const ops: Op[][] = cfg.nodes.map((n) => extractOps(n));
  const ptlVars = lockPointerVars(ops, model);
  // Only conditions that decide which lock/range/notifier operations happen are worth facts (see relevantConds).
  const relevant = relevantConds(cfg, ops, (op) => isEffectCall(op, ctx), () => budget?.tick('finding the conditions that decide something'));
  const tracked = trackedVars(cfg, ops, relevant);
  const guardVars = guardVariables(ops, ctx);
  for (const v of guardVars) tracked.add(v);
  const { condKeyOf, condVars, varTests } = pureConditions(cfg, relevant);
  const flagVars = flagVariables(ops);
  budget?.check('collecting value facts');
  const liveIn = computeLiveness(cfg, ops, tracked, condKeyOf, condVars, () => budget?.tick('computing live variables'));
  const mmLocal = /\bmm\s*=\s*\(?\s*vma\s*\)?\s*->\s*vm_mm\b/.test(ctx.text.slice(fn.start, fn.end)) || fn.params.includes('mm');
  return { cfg, ops, ptlVars, relevant, tracked, guardVars, condKeyOf, condVars, varTests, flagVars, liveIn, mmLocal };
}

/** Variables assigned the result of a lock-pointer function or of a lock helper that returns the lock. */
function lockPointerVars(ops: Op[][], model: KernelModel): Set<string> {
  const ptlVars = new Set<string>();
  for (const list of ops) for (const op of list) {
    if (op.k === 'assign' && op.rhs && op.rhs.type === 'call_expression') {
      const name = op.rhs.childForFieldName('function')?.text ?? '';
      if (LOCKPTR.has(name) || model.lockHelper(name)?.lockArg === 'return') ptlVars.add(op.target);
    }
  }
  return ptlVars;
}

/** A lock, unlock, range or notifier operation, or a call whose summary has such an effect. */
function isEffectCall(op: CallOp, ctx: AnalysisContext): boolean {
  const model = ctx.model;
  const name = op.name;
  if (model.notifier(name) || model.lockHelper(name) || model.unlockHelper(name)) return true;
  if (SPIN_LOCK.has(name) || SPIN_TRYLOCK.has(name) || SPIN_UNLOCK.has(name)) return true;
  const sum = ctx.summaryOf(name);
  return !!sum && hasEffect(sum);
}

/** Variables that relevant conditions can decide (trackableIds), among those the function assigns. */
function trackedVars(cfg: Cfg, ops: Op[][], relevant: Set<number>): Set<string> {
  const tracked = new Set<string>();
  const assigned = new Set<string>();
  for (const list of ops) for (const op of list) if (op.k === 'assign') assigned.add(op.target);
  for (const n of cfg.nodes) if (relevant.has(n.id) && n.syntax) trackableIds(unwrap(n.syntax), assigned, tracked);
  return tracked;
}

/** Variables holding a lock helper's result (pte, vmf->pte, ptl): their tests decide whether the lock is held. */
function guardVariables(ops: Op[][], ctx: AnalysisContext): Set<string> {
  const guardVars = new Set<string>();
  for (const list of ops) for (const op of list) {
    if (op.k !== 'call' || !op.lhs) continue;
    const lh = ctx.model.lockHelperFor(op.name, op.args.length);
    if ((lh && lh.returns !== 'always') || ctx.summaryOf(op.name)?.acquires.some((a) => a.cond !== 'always')) guardVars.add(op.lhs);
  }
  return guardVars;
}

/**
 * Pure conditions (no calls, no assignments) seen on a path are facts until one of their variables changes.
 * Only conditions tested at two places or more are worth remembering (a re-test is what they can decide).
 */
function pureConditions(cfg: Cfg, relevant: Set<number>): Pick<Prepared, 'condKeyOf' | 'condVars' | 'varTests'> {
  const condVars = new Map<string, Set<string>>();
  const condKeyOf = new Map<number, CondKey | null>();
  const condCount = new Map<string, number>();
  const varTests = new Map<string, number>();
  const pending: Array<[number, CondKey, Node]> = [];
  for (const n of cfg.nodes) {
    if (n.kind !== 'cond' || !n.syntax || n.preproc || !relevant.has(n.id)) continue;
    const atom = unwrap(n.syntax);
    const ids = new Set<string>();
    conditionIdentifiers(atom, ids);
    for (const id of ids) varTests.set(id, (varTests.get(id) ?? 0) + 1);
    const ck = condKey(atom);
    if (!ck) { condKeyOf.set(n.id, null); continue; }
    condCount.set(ck.key, (condCount.get(ck.key) ?? 0) + 1);
    pending.push([n.id, ck, atom]);
  }
  for (const [id, ck, atom] of pending) {
    if ((condCount.get(ck.key) ?? 0) < 2) { condKeyOf.set(id, null); continue; }
    condKeyOf.set(id, ck);
    const ids = new Set<string>();
    conditionIdentifiers(atom, ids);
    for (const v of ids) {
      for (const name of new Set([v, v.split(/[.>-]/)[0]])) {
        let set = condVars.get(name);
        if (!set) condVars.set(name, (set = new Set()));
        set.add(ck.key);
      }
    }
  }
  return { condKeyOf, condVars, varTests };
}

/** The fact key of a condition atom, or null when it is not a pure condition worth a key of its own. */
function condKey(atom: Node): CondKey | null {
  if (hasSideEffects(atom) || atom.type === 'identifier' || atom.type === 'number_literal') return null;
  let text = atom.text.replace(/\s+/g, '');
  let negate = false;
  const op = atom.type === 'binary_expression' ? atom.childForFieldName('operator')?.text : undefined;
  if (op === '==' || op === '!=') {
    // a != b and b == a are one fact: operands sorted, negation remembered.
    const l = normExpr(atom.childForFieldName('left')?.text ?? '');
    const r = normExpr(atom.childForFieldName('right')?.text ?? '');
    text = l < r ? `${l}==${r}` : `${r}==${l}`;
    negate = op === '!=';
  }
  return { key: `?${text}`, negate };
}

/** Flags: locals set to constants somewhere (mmun_called = true, notified = 1). Their facts survive a join. */
function flagVariables(ops: Op[][]): Set<string> {
  const flagVars = new Set<string>();
  for (const list of ops) for (const op of list) {
    if (op.k === 'assign' && op.rhs && ['number_literal', 'true', 'false', 'null'].includes(op.rhs.type)) flagVars.add(op.target);
    if (op.k === 'assign' && op.rhs && op.rhs.type === 'identifier' && /^(NULL|true|false)$/.test(op.rhs.text)) flagVars.add(op.target);
  }
  return flagVars;
}
