// Path-sensitive analysis of one function: walks the CFG with bounded sets of lock/range/value states, emits observations.
import { CfgBuilder, type Cfg, type CfgNode, type EdgeKind } from '../cfg/build';
import { extractOps, conditionIdentifiers, type CallOp, type Op } from './ops';
import { unwrap, normExpr, type FunctionInfo, type Node } from '../parse/syntax';
import type { KernelModel, NotifierInfo, LockHelper } from '../kernel/model';
import { SPIN_LOCK, SPIN_TRYLOCK, SPIN_UNLOCK, LOCKPTR, isPtlExpr } from '../kernel/model';
import type { LockContract } from '../parse/prepass';
import {
  addLock, clampFact, cloneState, pushEvent, removeLock, stateKey, trailToPath, MAX_RANGES,
  type Ev, type Guard, type HeldLock as HeldLockT, type State, type Val,
} from './state';
import { leaksRange, substituteKey, type Summary, type SummaryLock } from './summary';

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
  model: KernelModel;
  file: string;
  text: string;
  contracts: LockContract[];
  /** Summary of a called function, computed on demand; undefined for unknown functions. */
  summaryOf: (name: string) => Summary | undefined;
  budgetMs: number;
  maxVisits: number;
}

const MAX_STATES_PER_NODE = 48;

function posOf(file: string, n: Node, event: Ev['event'], extra?: Partial<Ev>): Ev {
  const stmt = enclosingStatement(n);
  return {
    file,
    line: n.startPosition.row + 1,
    column: n.startPosition.column + 1,
    event,
    offset: n.startIndex,
    stmtStart: stmt.startIndex,
    stmtEnd: stmt.endIndex,
    ...extra,
  };
}

/** The statement (child of a block or case) that contains a node. */
export function enclosingStatement(n: Node): Node {
  let cur = n;
  for (let i = 0; i < 200; i++) {
    const p = cur.parent;
    if (!p) return cur;
    if (p.type === 'compound_statement' || p.type === 'case_statement' || p.type === 'translation_unit' || p.type === 'labeled_statement' ||
      p.type === 'preproc_if' || p.type === 'preproc_ifdef' || p.type === 'preproc_else' || p.type === 'preproc_elif') return cur;
    cur = p;
  }
  return cur;
}

/** Analyses one function. */
export function analyzeFunction(fn: FunctionInfo, ctx: AnalysisContext): FunctionAnalysis {
  const model = ctx.model;
  const cfg = new CfgBuilder((n) => model.isNoreturn(n)).build(fn.name, fn.body);
  const ops: Op[][] = cfg.nodes.map((n) => extractOps(n));
  const ptlVars = new Set<string>();
  for (const list of ops) for (const op of list) {
    if (op.k === 'assign' && op.rhs && op.rhs.type === 'call_expression') {
      const name = op.rhs.childForFieldName('function')?.text ?? '';
      if (LOCKPTR.has(name) || model.lockHelper(name)?.lockArg === 'return') ptlVars.add(op.target);
    }
  }
  // Only conditions that decide which lock/range/notifier operations happen are worth facts (see relevantConds).
  const relevant = relevantConds(cfg, ops, (op) => {
    const name = op.name;
    if (model.notifier(name) || model.lockHelper(name) || model.unlockHelper(name)) return true;
    if (SPIN_LOCK.has(name) || SPIN_TRYLOCK.has(name) || SPIN_UNLOCK.has(name)) return true;
    const sum = ctx.summaryOf(name);
    return !!sum && !!(sum.acquires.length || sum.releases.length || sum.rangeDelta || sum.changePte || sum.sleeps);
  });
  const tracked = new Set<string>();
  const assigned = new Set<string>();
  for (const list of ops) for (const op of list) if (op.k === 'assign') assigned.add(op.target);
  for (const n of cfg.nodes) if (relevant.has(n.id) && n.syntax) trackableIds(unwrap(n.syntax), assigned, tracked);
  // Variables holding a lock helper's result (pte, vmf->pte, ptl): their tests decide whether the lock is held.
  const guardVars = new Set<string>();
  for (const list of ops) for (const op of list) {
    if (op.k !== 'call' || !op.lhs) continue;
    const lh = model.lockHelperFor(op.name, op.args.length);
    if ((lh && lh.returns !== 'always') || ctx.summaryOf(op.name)?.acquires.some((a) => a.cond !== 'always')) guardVars.add(op.lhs);
  }
  for (const v of guardVars) tracked.add(v);
  // Pure conditions (no calls, no assignments) seen on a path are facts until one of their variables changes.
  // Only conditions tested at two places or more are worth remembering (a re-test is what they can decide).
  const condVars = new Map<string, Set<string>>();
  const condKeyOf = new Map<number, { key: string; negate: boolean } | null>();
  const condCount = new Map<string, number>();
  const varTests = new Map<string, number>();
  const pending: Array<[number, { key: string; negate: boolean }, Node]> = [];
  for (const n of cfg.nodes) {
    if (n.kind !== 'cond' || !n.syntax || n.preproc || !relevant.has(n.id)) continue;
    const atom = unwrap(n.syntax);
    const ids = new Set<string>();
    conditionIdentifiers(atom, ids);
    for (const id of ids) varTests.set(id, (varTests.get(id) ?? 0) + 1);
    if (hasSideEffects(atom) || atom.type === 'identifier' || atom.type === 'number_literal') { condKeyOf.set(n.id, null); continue; }
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
    const ck = { key: `?${text}`, negate };
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
  // Flags: locals set to constants somewhere (mmun_called = true, notified = 1). Their facts survive a join.
  const flagVars = new Set<string>();
  for (const list of ops) for (const op of list) {
    if (op.k === 'assign' && op.rhs && ['number_literal', 'true', 'false', 'null'].includes(op.rhs.type)) flagVars.add(op.target);
    if (op.k === 'assign' && op.rhs && op.rhs.type === 'identifier' && /^(NULL|true|false)$/.test(op.rhs.text)) flagVars.add(op.target);
  }
  const liveIn = computeLiveness(cfg, ops, tracked, condKeyOf, condVars);
  const mmLocal = /\bmm\s*=\s*\(?\s*vma\s*\)?\s*->\s*vm_mm\b/.test(ctx.text.slice(fn.start, fn.end)) || fn.params.includes('mm');
  const isPtl = (key: string): boolean => isPtlExpr(key) || ptlVars.has(key) || ptlVars.has(key.replace(/^\*/, ''));
  const observations: Observation[] = [];
  const obsSeen = new Set<string>();
  const releasedUnheld = new Set<string>();
  const usedSummaries = new Set<string>();
  const exits: State[] = [];
  let opensRange = false;
  let rangeRequires: string[] | undefined;
  const entryAsserted = new Set<string>();
  const lockSites: FunctionAnalysis['lockSites'] = [];
  const lockSiteSeen = new Set<string>();
  const noteSite = (kind: 'lock' | 'unlock', key: string, ev: Ev): void => {
    const k = `${kind}:${key}:${ev.offset}`;
    if (lockSiteSeen.has(k)) return;
    lockSiteSeen.add(k);
    lockSites.push({ kind, key, ev });
  };

  const file = ctx.file;
  const observe = (s: State, kind: ObsKind, at: Ev, node: Node, extra?: Partial<Observation>): void => {
    const k = `${kind}@${at.line}:${at.column}:${extra?.via ?? ''}:${kind === 'sleeping' ? s.locks.length > 0 : s.ranges.length > 0}`;
    if (obsSeen.has(k)) return;
    obsSeen.add(k);
    observations.push({ kind, at, node, locks: s.locks, ranges: s.ranges, pending: s.pending, path: trailToPath(s.trail), ...extra });
  };

  // Entry state: locks promised by __releases()/__must_hold() contracts on this function.
  const init: State = { locks: [], ranges: [], facts: new Map(), pending: null, trail: null };
  pushEvent(init, posOf(file, fn.node, 'entry', { detail: fn.name }));
  for (const c of ctx.contracts) {
    if (c.offset < fn.start || c.offset > fn.bodyStart) continue;
    if (c.kind === 'releases' || c.kind === 'must_hold') {
      const key = normExpr(c.lock);
      const ev = posOf(file, fn.node, 'lock', { lock: key, detail: `held on entry (__${c.kind}(${c.lock}))` });
      addLock(init, { key, site: ev, onEntry: true });
      pushEvent(init, ev);
    }
  }

  /** Lock key from a helper argument: a struct holding the lock (field), a pointer to the lock pointer (&ptl), or the lock pointer. */
  const lockKeyFromArg = (arg: Node | undefined, field?: string, lockPointer = false): string | undefined => {
    if (!arg) return undefined;
    const t = arg.text.replace(/\s+/g, '');
    if (field) return t.startsWith('&') ? normExpr(`${t.slice(1)}.${field}`) : normExpr(`(${t})->${field}`);
    if (lockPointer) return normExpr(t);
    return t.startsWith('&') ? normExpr(t) : normExpr(`*(${t})`);
  };

  const acquire = (s: State, key: string, n: Node, name: string, guard: Guard | undefined, via?: string): void => {
    const ev = posOf(file, n, 'lock', { lock: key, detail: `${name}() takes ${key}`, via });
    addLock(s, { key, site: ev, guard });
    pushEvent(s, ev);
    noteSite('lock', key, ev);
  };
  const release = (s: State, lockKey: string, n: Node, name: string, via?: string): void => {
    let key = lockKey;
    let held = removeLock(s, key);
    if (!held) {
      // Two names for one lock: `if (ptl != pml)` was false on this path, so unlocking ptl unlocks pml.
      const alias = s.locks.find((l) => s.facts.get(`?${key < l.key ? `${key}==${l.key}` : `${l.key}==${key}`}`) === 1);
      if (alias) {
        held = removeLock(s, alias.key);
        key = alias.key;
      }
    }
    const ev = posOf(file, n, 'unlock', { lock: key, detail: `${name}() releases ${key}`, via });
    noteSite('unlock', key, ev);
    if (!held) {
      if (isPtl(key) || via) releasedUnheld.add(key);
      return;
    }
    pushEvent(s, ev);
  };
  const guardFor = (op: CallOp, returns: LockHelper['returns'], nodeId: number): Guard | undefined => {
    if (returns === 'always') return undefined;
    let polarity: Guard['polarity'] = returns === 'zero' ? 'falsy' : 'truthy';
    if (op.isCondAtom && op.condInverted) polarity = polarity === 'truthy' ? 'falsy' : 'truthy';
    if (op.isCondAtom) return { node: nodeId, polarity };
    if (op.lhs) return { v: op.lhs, polarity };
    return undefined;
  };

  const notifierCall = (s: State, op: CallOp, info: NotifierInfo, nodeId: number): void => {
    const n = op.node;
    if (/^mmu_notifier_range_init/.test(info.name) && op.args[0]) {
      const r = lockKeyFromArg(op.args[0], 'start');
      if (r) s.facts.delete(r);
    }
    if (info.role === 'change_pte') {
      const ev = posOf(file, n, 'set_pte_at_notify', { callee: info.name, detail: `${info.name}()` });
      pushEvent(s, ev);
      if (s.ranges.length > 0) {
        if (!s.pending) s.pending = ev;
      }
      observe(s, 'changePte', ev, n, { callee: info.name, notifier: info, origin: ev });
      return;
    }
    const evKind = info.role === 'range_start' ? 'range_start' : info.role === 'range_end' ? 'range_end' : /clear_flush.*_notify$/.test(info.name) && !/young/.test(info.name) ? 'clear_flush_notify' : 'notifier_call';
    const ev = posOf(file, n, evKind, { callee: info.name, maySleep: info.maySleep, detail: info.expansion ? `${info.name}() (${info.expansion})` : `${info.name}()` });
    pushEvent(s, ev);
    if (info.maySleep) observe(s, 'sleeping', ev, n, { callee: info.name, notifier: info });
    if (info.role === 'range_start') {
      opensRange = true;
      // Parameters known non-zero here (`if (start && end) range_start(...)`): the range is opened only when the
      // caller passes them (kept as the intersection over every range start of the function).
      const nz = fn.params.filter((p) => { const v = s.facts.get(p); return v !== undefined && v !== 0; });
      rangeRequires = rangeRequires ? rangeRequires.filter((p) => nz.includes(p)) : nz;
      // The non-blocking start fails with -EAGAIN without opening the range.
      const guard = /_nonblock$/.test(info.name) ? guardFor(op, 'zero', nodeId) : undefined;
      if (s.ranges.length < MAX_RANGES) s.ranges = s.ranges.concat([{ site: ev, guard }]);
      // New API range_start(&range): code that tests range.start afterwards relies on the range being non-empty.
      if (op.args.length === 1) {
        const r = lockKeyFromArg(op.args[0], 'start');
        if (r && tracked.has(r)) s.facts.set(r, 'nz');
      }
      // Old API range_start(mm, start, end): the range is non-empty, which later `if (end > start)` tests rely on.
      // A bound is never 0 (nothing is mapped at address 0: mmap_min_addr), so a lazy-start flag that holds the start
      // (`mni_start = addr; range_start(mm, mni_start, end)` ... `if (mni_start) range_end(...)`) says the range is open.
      // Decided here, the same way in every version, in the function that has the flag.
      if (op.args.length === 3) {
        const a = op.args[1].type === 'identifier' ? op.args[1].text : undefined;
        const b = op.args[2].type === 'identifier' ? op.args[2].text : undefined;
        if (a && tracked.has(a)) s.facts.set(a, `R${nodeId}:lo`);
        if (b && tracked.has(b)) s.facts.set(b, `R${nodeId}:hi`);
      }
    } else if (info.role === 'range_end') {
      if (s.ranges.length > 0) {
        s.ranges = s.ranges.slice(0, -1);
        if (s.ranges.length === 0) s.pending = null;
      } else {
        s.under = true;
        observe(s, 'rangeEndUnopened', ev, n, { callee: info.name });
      }
    }
  };

  const applySummary = (s: State, op: CallOp, sum: Summary, nodeId: number): void => {
    const n = op.node;
    const args = op.args.map((a) => a.text);
    const callEv = posOf(file, n, 'call', { callee: sum.name, detail: `${sum.name}()` });
    pushEvent(s, callEv);
    // Locks the callee drops come first: "unlock, sleep, relock" helpers do not sleep under the caller's lock.
    for (const r of sum.releases) {
      if (r === '$held') {
        // The callee asserts and drops "the caller's lock": the one the caller took last.
        const last = s.locks.reduce<HeldLockT | undefined>((a, l) => (!a || (l.site.offset ?? 0) > (a.site.offset ?? 0) ? l : a), undefined);
        if (last) release(s, last.key, n, sum.name, sum.name);
        continue;
      }
      const key = substituteKey(r, args, op.lhs, sum.name, normExpr);
      release(s, key, n, sum.name, sum.name);
    }
    if (sum.sleeps) {
      const ev = posOf(file, n, 'notifier_call', { callee: sum.sleeps.callee, maySleep: true, via: sum.name, detail: `${sum.name}() calls ${sum.sleeps.callee}() (line ${sum.sleeps.site.line})` });
      pushEvent(s, ev);
      observe(s, 'sleeping', ev, n, { callee: sum.sleeps.callee, via: sum.name, viaPath: sum.sleeps.path });
    }
    if (sum.rangeDelta < 0) {
      const ev = posOf(file, n, 'range_end', { via: sum.name, detail: `${sum.name}() ends the range` });
      pushEvent(s, ev);
      if (s.ranges.length > 0) {
        s.ranges = s.ranges.slice(0, -1);
        if (s.ranges.length === 0) s.pending = null;
      } else {
        s.under = true;
        observe(s, 'rangeEndUnopened', ev, n, { callee: sum.name, via: sum.name });
      }
    }
    if (sum.changePte) {
      const origin = sum.changePte.origin ?? sum.changePte.site;
      const ev = posOf(file, n, 'set_pte_at_notify', { via: sum.name, callee: 'set_pte_at_notify', detail: `${sum.name}() calls set_pte_at_notify() (${origin.file === file ? '' : `${origin.file}:`}line ${origin.line})` });
      pushEvent(s, ev);
      if (s.ranges.length > 0 && !s.pending) s.pending = ev;
      observe(s, 'changePte', ev, n, { callee: sum.name, via: sum.name, viaKey: `${sum.file}\0${sum.name}`, viaPath: sum.changePte.path, origin });
    }
    for (const a of sum.acquires) {
      const key = substituteKey(a.key, args, op.lhs, sum.name, normExpr);
      const returns: LockHelper['returns'] = a.cond === 'always' ? 'always' : a.cond === 'zero' ? 'zero' : 'pointer';
      acquire(s, key, n, sum.name, guardFor(op, returns, nodeId), sum.name);
    }
    // The range opens only when the caller passes the arguments it depends on (follow_pte() passes NULL bounds).
    const isNullArg = (i: number): boolean => !!op.args[i] && /^(NULL|0|\(\s*void\s*\*\s*\)\s*0)$/.test(op.args[i].text.trim());
    if (sum.rangeDelta > 0 && !(sum.rangeIfArgs ?? []).some(isNullArg)) {
      const when = sum.rangeCond ? ` when it returns ${sum.rangeCond === 'zero' ? '0' : 'non-zero'}` : '';
      const ev = posOf(file, n, 'range_start', { via: sum.name, detail: `${sum.name}() opens a range and returns with it open${when}` });
      pushEvent(s, ev);
      const guard = sum.rangeCond ? guardFor(op, sum.rangeCond === 'zero' ? 'zero' : 'pointer', nodeId) : undefined;
      if (s.ranges.length < MAX_RANGES) s.ranges = s.ranges.concat([{ site: ev, guard, leaked: leaksRange(sum) || undefined }]);
    }
  };

  const applyCall = (s: State, op: CallOp, nodeId: number): void => {
    const name = op.name;
    const info = model.notifier(name);
    if (info) return notifierCall(s, op, info, nodeId);
    const lh = model.lockHelperFor(name, op.args.length);
    if (lh) {
      if (lh.releasesFirst) {
        const k = lockKeyFromArg(op.args[lh.lockArg as number], lh.field);
        if (k && s.locks.some((l) => l.key === k)) release(s, k, op.node, name);
      }
      let key = lh.lockArg === 'return' ? op.lhs ?? `${name}()` : lockKeyFromArg(op.args[lh.lockArg], lh.field);
      if (lh.mmPageTableLockOfArg !== undefined && op.args[lh.mmPageTableLockOfArg]) {
        key = mmLocal ? 'mm->page_table_lock' : normExpr(`(${op.args[lh.mmPageTableLockOfArg].text})->vm_mm->page_table_lock`);
      }
      if (key) acquire(s, key, op.node, name, guardFor(op, lh.returns, nodeId));
      // A success also starts the caller's range when the range arguments are given (follow_pte_pmd with bounds).
      if (lh.rangeArgs && !lh.rangeArgs.some((i) => !op.args[i] || /^(NULL|0)$/.test(op.args[i].text.trim()))) {
        const ev = posOf(file, op.node, 'range_start', { via: name, detail: `${name}() starts the range when it succeeds` });
        pushEvent(s, ev);
        if (s.ranges.length < MAX_RANGES) s.ranges = s.ranges.concat([{ site: ev, guard: guardFor(op, lh.returns, nodeId) }]);
      }
      return;
    }
    const uh = model.unlockHelper(name);
    if (uh) {
      const key = lockKeyFromArg(op.args[uh.lockArg < 0 ? op.args.length + uh.lockArg : uh.lockArg], uh.field, true);
      if (key) release(s, key, op.node, name);
      return;
    }
    if (SPIN_LOCK.has(name) || SPIN_TRYLOCK.has(name)) {
      const key = op.args[0] ? normExpr(op.args[0].text) : '';
      if (key && isPtl(key)) acquire(s, key, op.node, name, SPIN_TRYLOCK.has(name) ? guardFor(op, 'bool', nodeId) : undefined);
      return;
    }
    if (name === 'lockdep_assert_held' || name === 'lockdep_assert_held_once' || name === 'assert_spin_locked') {
      // The function documents that its caller holds this lock: treat it as held since entry.
      const key = op.args[0] ? normExpr(op.args[0].text) : '';
      if (key && isPtl(key) && !s.locks.some((l) => l.key === key)) {
        const ev = posOf(file, op.node, 'lock', { lock: key, detail: `${name}(${key}): held by the caller` });
        addLock(s, { key, site: ev, onEntry: true });
        pushEvent(s, ev);
        entryAsserted.add(key);
      }
      return;
    }
    if (SPIN_UNLOCK.has(name)) {
      const key = op.args[0] ? normExpr(op.args[0].text) : '';
      if (key && (isPtl(key) || s.locks.some((l) => l.key === key))) release(s, key, op.node, name);
      return;
    }
    const sum = ctx.summaryOf(name);
    if (sum && (sum.acquires.length || sum.releases.length || sum.rangeDelta || sum.changePte || sum.sleeps)) {
      usedSummaries.add(name);
      applySummary(s, op, sum, nodeId);
    }
  };

  const evalVal = (s: State, e: Node | null): Val | undefined => {
    if (!e) return undefined;
    const x = unwrap(e);
    switch (x.type) {
      case 'number_literal': {
        const v = Number(x.text.replace(/[uUlL]+$/, ''));
        return Number.isFinite(v) ? clampFact(v) : undefined;
      }
      case 'true': return 1;
      case 'false': return 0;
      case 'null': return 0;
      case 'identifier':
        if (x.text === 'NULL' || x.text === 'false') return 0;
        if (x.text === 'true') return 1;
        // A held lock's pointer variable (ptl = pmd_lock(...)) is not NULL.
        return s.facts.get(x.text) ?? (s.locks.some((l) => l.key === x.text && !l.guard) ? 'nz' : undefined);
      case 'field_expression':
        return s.facts.get(normExpr(x.text));
      case 'unary_expression': {
        const op = x.child(0)?.text;
        const v = evalVal(s, x.childForFieldName('argument'));
        if (op === '!' && typeof v === 'string') return 0;
        if (typeof v !== 'number') return undefined;
        if (op === '!') return v ? 0 : 1;
        if (op === '-') return clampFact(-v);
        return undefined;
      }
      case 'cast_expression':
        return evalVal(s, x.childForFieldName('value'));
      case 'assignment_expression':
        return evalVal(s, x.childForFieldName('left'));
      case 'binary_expression': {
        const op = x.childForFieldName('operator')?.text ?? '';
        const a = evalVal(s, x.childForFieldName('left'));
        const b = evalVal(s, x.childForFieldName('right'));
        if (a === undefined || b === undefined) return undefined;
        return compare(op, a, b);
      }
      default:
        return undefined;
    }
  };

  const applyAssign = (s: State, op: Extract<Op, { k: 'assign' }>): void => {
    const t = op.target;
    // A held lock's pointer copied to where the caller sees it (`vmf->ptl = ptl;` in the speculative-fault
    // pte_map_lock() of vendor trees): the lock is known by that name from here, so the caller can release it.
    if (op.op === '=' && op.rhs && (op.rhs.type === 'identifier' || op.rhs.type === 'field_expression') && paramRelative(t, fn)) {
      const src = normExpr(op.rhs.text);
      const held = s.locks.find((l) => l.key === src);
      if (held && !paramRelative(src, fn)) {
        removeLock(s, src);
        addLock(s, { ...held, key: t });
      }
    }
    const affected = condVars.get(t) ?? condVars.get(t.split(/[.>-]/)[0]);
    if (affected) for (const k of affected) s.facts.delete(k);
    // A re-assigned guard variable no longer says whether the lock is held: assume it is.
    if (s.locks.some((l) => l.guard?.v === t) && !(op.rhs && op.rhs.type === 'call_expression')) {
      s.locks = s.locks.map((l) => (l.guard?.v === t ? { ...l, guard: undefined } : l));
    }
    if (!tracked.has(t)) return;
    let v: Val | undefined;
    if (op.op === '=' && op.rhs) v = evalVal(s, op.rhs);
    else if (op.op === '++' || op.op === '--' || op.op === '+=' || op.op === '-=') {
      const cur = s.facts.get(t);
      const d = op.op === '++' ? 1 : op.op === '--' ? -1 : typeof (op.rhs && evalVal(s, op.rhs)) === 'number' ? (evalVal(s, op.rhs) as number) * (op.op === '+=' ? 1 : -1) : undefined;
      v = typeof cur === 'number' && d !== undefined ? clampFact(cur + d) : undefined;
    }
    if (v === undefined) s.facts.delete(t);
    else s.facts.set(t, v);
  };

  const applyReturn = (s: State, value: Node | null): void => {
    if (!value) { s.ret = 'void'; return; }
    const x = unwrap(value);
    if (x.type === 'identifier') {
      const g = s.locks.find((l) => l.guard?.v === x.text) ?? s.ranges.find((r) => r.guard?.v === x.text);
      if (g) { s.ret = `g:${g.guard!.polarity}:${x.text}`; return; }
      if (s.locks.some((l) => l.key === x.text)) { s.ret = `lock:${x.text}`; return; }
    }
    // -EINVAL, -ENOMEM, ...: an error code is non-zero.
    if (x.type === 'unary_expression' && x.child(0)?.text === '-' && /^E[A-Z0-9]+$/.test(unwrap(x.childForFieldName('argument') ?? x).text)) { s.ret = 'error'; return; }
    const v = evalVal(s, x);
    s.ret = v === undefined ? 'unknown' : typeof v === 'number' ? (v === 0 ? 'zero' : 'nonzero') : 'unknown';
  };

  const transfer = (s: State, n: CfgNode): void => {
    if (n.kind === 'goto') pushEvent(s, { file, line: n.line, column: (n.syntax?.startPosition.column ?? 0) + 1, event: 'goto', detail: n.label });
    for (const op of ops[n.id]) {
      if (op.k === 'call') applyCall(s, op, n.id);
      else if (op.k === 'assign') applyAssign(s, op);
      else applyReturn(s, op.value);
    }
    if (n.kind === 'return' && n.syntax) pushEvent(s, posOf(file, n.syntax, 'return', { detail: n.label }));
  };

  /** Applies what taking edge `kind` out of cond node `n` tells; false when the edge is impossible in this state. */
  const branch = (s: State, n: CfgNode, kind: EdgeKind): boolean => {
    const truth = kind === 'true';
    // Locks whose guard is this condition's helper call.
    if (s.locks.some((l) => l.guard?.node === n.id)) {
      s.locks = s.locks.flatMap((l) => {
        if (l.guard?.node !== n.id) return [l];
        const held = (l.guard.polarity === 'truthy') === truth;
        return held ? [{ ...l, guard: undefined }] : [];
      });
    }
    if (!n.syntax || n.preproc) return true;
    const atom = unwrap(n.syntax);
    // Which variable is tested, and is it tested for truth (x, x != NULL) or falsity (x == NULL)?
    let tested: string | undefined;
    let testTruth = truth;
    if (atom.type === 'identifier' || atom.type === 'field_expression') tested = normExpr(atom.text);
    else if (atom.type === 'assignment_expression') tested = normExpr(atom.childForFieldName('left')?.text ?? '');
    else if (atom.type === 'binary_expression') {
      const op = atom.childForFieldName('operator')?.text;
      const l = atom.childForFieldName('left');
      const r = atom.childForFieldName('right');
      const isNull = (x: Node | null): boolean => !!x && (x.text === 'NULL' || x.text === '0' || x.type === 'null');
      if ((op === '==' || op === '!=') && l && r && (isNull(r) || isNull(l))) {
        const v = isNull(r) ? l : r;
        tested = normExpr(unwrap(v).type === 'assignment_expression' ? unwrap(v).childForFieldName('left')?.text ?? '' : v.text);
        testTruth = op === '!=' ? truth : !truth;
      } else if (l && r && unwrap(r).type === 'number_literal' && /^\d+$/.test(unwrap(r).text) && s.locks.some((x) => x.guard?.v === normExpr(unwrap(l).text))) {
        // A lock helper's result compared with its "locked" value: before v4.6 __pmd_trans_huge_lock() returned 1 with
        // the lock held, 0 or -1 without (`if (ret == 1)`, `if (ret > 0)`); any other answer means not held.
        const c = Number(unwrap(r).text);
        const holds = (op === '==' && c > 0) || (op === '>' && c === 0) || (op === '>=' && c === 1) ? truth : op === '!=' && c > 0 ? !truth : undefined;
        if (holds !== undefined) {
          tested = normExpr(unwrap(l).text);
          testTruth = holds;
        }
      }
    }
    if (s.ranges.some((r) => r.guard && (r.guard.node === n.id || (tested && r.guard.v === tested)))) {
      s.ranges = s.ranges.flatMap((r) => {
        if (!r.guard || !(r.guard.node === n.id || (tested && r.guard.v === tested))) return [r];
        const t = r.guard.node === n.id ? truth : testTruth;
        return (r.guard.polarity === 'truthy') === t ? [{ site: r.site }] : [];
      });
    }
    if (tested && s.locks.some((l) => l.guard?.v === tested)) {
      s.locks = s.locks.flatMap((l) => {
        if (l.guard?.v !== tested) return [l];
        const held = (l.guard.polarity === 'truthy') === testTruth;
        return held ? [{ ...l, guard: undefined }] : [];
      });
    }
    const ck = condKeyOf.get(n.id);
    if (ck) {
      const known = s.facts.get(ck.key);
      const want = ck.negate ? !truth : truth;
      if (typeof known === 'number') {
        if ((known !== 0) !== want) return false;
      } else s.facts.set(ck.key, want ? 1 : 0);
    }
    const v = evalVal(s, atom);
    if (typeof v === 'number') {
      if ((v !== 0) !== truth) return false;
    } else if (v === 'nz' && !truth) {
      return false;
    } else if (tested && tracked.has(tested) && ((varTests.get(tested) ?? 0) >= 2 || flagVars.has(tested) || guardVars.has(tested))) {
      const cur = s.facts.get(tested);
      if (!testTruth) {
        if (typeof cur === 'string') return false; // symbolic range bounds and 'nz' are non-zero
        s.facts.set(tested, 0);
      } else if (cur === undefined) s.facts.set(tested, 'nz');
    }
    return true;
  };

  // Worklist over (node, state), FIFO so the first state to reach a point has one of the shortest paths.
  const seen: Array<Map<string, true>> = cfg.nodes.map(() => new Map());
  const joined: Array<Map<string, State> | undefined> = [];
  const queue: Array<[number, State]> = [[cfg.entry, init]];
  let head = 0;
  let visits = 0;
  const t0 = Date.now();
  let incomplete: string | undefined;
  while (head < queue.length) {
    const [id, st] = queue[head++];
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    visits++;
    if ((visits & 1023) === 0 && Date.now() - t0 > ctx.budgetMs) {
      incomplete = `time budget of ${ctx.budgetMs} ms exceeded after ${visits} state visits`;
      break;
    }
    if (visits > ctx.maxVisits) {
      incomplete = `more than ${ctx.maxVisits} state visits`;
      break;
    }
    const n = cfg.nodes[id];
    const s = cloneState(st);
    if (n.kind === 'exit') {
      exits.push(s);
      const own = s.ranges.filter((r) => !r.leaked);
      if (own.length > 0) {
        observe(s, 'exitRangeOpen', s.pending ?? own[own.length - 1].site, fn.node, { pending: s.pending });
      }
      continue;
    }
    transfer(s, n);
    for (let i = 0; i < n.succ.length; i++) {
      const e = n.succ[i];
      const s2 = i === n.succ.length - 1 ? s : cloneState(s);
      if (n.kind === 'cond') {
        if (!branch(s2, n, e.kind)) continue;
        if (!n.preproc || true) pushEvent(s2, { file, line: n.line, column: (n.syntax?.startPosition.column ?? 0) + 1, event: 'branch', detail: `${n.label} -> ${e.kind}` });
      }
      // Facts about variables that are dead at the target are dropped: they would only multiply states.
      if (s2.facts.size) {
        const to = e.to;
        let dead = false;
        for (const k of s2.facts.keys()) if (!liveIn.has(to, k)) { dead = true; break; }
        if (dead) {
          const kept = new Map<string, Val>();
          for (const [k, v] of s2.facts) if (liveIn.has(to, k)) kept.set(k, v);
          s2.facts = kept;
        }
      }
      let key = stateKey(s2);
      const bucket = seen[e.to];
      if (bucket.has(key)) continue;
      if (bucket.size >= MAX_STATES_PER_NODE) {
        // Too many distinct value facts here: join with the state that has the same locks and ranges, keeping only
        // the facts both agree on (a loop-invariant flag survives; facts that differ between paths are forgotten).
        const core = stateKey(s2, false);
        const cores = joined[e.to] ?? (joined[e.to] = new Map());
        const prev = cores.get(core);
        if (prev) {
          const meet = new Map<string, Val>();
          for (const [k, v] of prev.facts) if (s2.facts.get(k) === v) meet.set(k, v);
          if (meet.size === prev.facts.size) continue; // nothing new
          s2.facts = meet;
          key = stateKey(s2);
          if (bucket.has(key)) continue;
        }
        cores.set(core, s2);
        if (bucket.size >= MAX_STATES_PER_NODE * 8) continue;
      }
      bucket.set(key, true);
      queue.push([e.to, s2]);
    }
  }

  return {
    fn,
    file,
    cfg,
    observations,
    summary: summarize(fn, file, exits, observations, releasedUnheld, init.locks.concat([...entryAsserted].map((key) => ({ key, site: init.trail!.ev, onEntry: true }))), opensRange,
      (rangeRequires ?? []).map((p) => fn.params.indexOf(p))),
    incomplete,
    usedSummaries: [...usedSummaries],
    visits,
    lockSites,
  };
}

/**
 * Conditions whose two branches reach different sets of effect nodes (lock, unlock, range and notifier operations,
 * calls with such summaries, and the exit) before coming back to the condition: the conditions that decide
 * something. Loop counters and tests that only choose between effect-free code never split states.
 */
function relevantConds(cfg: Cfg, ops: Op[][], isEffect: (op: CallOp) => boolean): Set<number> {
  const n = cfg.nodes.length;
  const effect = new Uint8Array(n);
  for (const node of cfg.nodes) if (node.kind === 'exit' || ops[node.id].some((op) => op.k === 'call' && isEffect(op))) effect[node.id] = 1;
  const ipdom = postDominators(cfg);
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

/** Immediate post-dominators (Cooper, Harvey and Kennedy's iterative algorithm on the reversed graph); -1 where none. */
function postDominators(cfg: Cfg): Int32Array {
  const n = cfg.nodes.length;
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (const node of cfg.nodes) for (const e of node.succ) if (e.to >= 0 && e.to < n) preds[e.to].push(node.id);
  // Post-order of the reversed graph from the exit.
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

/** Live variables and condition keys at each CFG node's entry (bit sets over the keys facts can be about). */
interface Liveness {
  has(node: number, key: string): boolean;
}

/**
 * Backward liveness of fact keys (tracked variables and pure-condition keys): a fact is kept only where some path
 * reads it before it is overwritten.
 */
function computeLiveness(cfg: Cfg, ops: Op[][], tracked: Set<string>, condKeyOf: Map<number, { key: string; negate: boolean } | null>,
  condVars: Map<string, Set<string>>): Liveness {
  const n = cfg.nodes.length;
  // Facts are only ever about tracked variables and condition keys: they are the universe of the bit sets.
  const index = new Map<string, number>();
  for (const t of tracked) index.set(t, index.size);
  for (const ck of condKeyOf.values()) if (ck && !index.has(ck.key)) index.set(ck.key, index.size);
  const W = Math.max(1, (index.size + 31) >> 5);
  const use = new Uint32Array(n * W);
  const def = new Uint32Array(n * W);
  const setBit = (a: Uint32Array, node: number, i: number): void => {
    a[node * W + (i >> 5)] |= 1 << (i & 31);
  };
  const bit = (a: Uint32Array, node: number, i: number): boolean => ((a[node * W + (i >> 5)] >>> (i & 31)) & 1) === 1;
  const ids = new Set<string>();
  for (const node of cfg.nodes) {
    const id = node.id;
    if (node.syntax) {
      ids.clear();
      conditionIdentifiers(node.syntax, ids);
      for (const v of ids) if (tracked.has(v)) setBit(use, id, index.get(v)!);
      // Calls may read any tracked variable through their arguments (range_start(mm, start, end)).
    }
    const ck = condKeyOf.get(id);
    if (ck) setBit(use, id, index.get(ck.key)!);
    for (const op of ops[id]) {
      if (op.k !== 'assign') continue;
      if (op.op === '=' || op.op === 'decl') {
        const t = index.get(op.target);
        if (t !== undefined && !bit(use, id, t)) setBit(def, id, t);
      }
      const keys = condVars.get(op.target);
      if (keys) {
        for (const k of keys) {
          const t = index.get(k);
          if (t !== undefined && !bit(use, id, t)) setBit(def, id, t);
        }
      }
    }
  }
  const live = new Uint32Array(n * W);
  const preds: number[][] = Array.from({ length: n }, () => []);
  for (const node of cfg.nodes) for (const e of node.succ) if (e.to >= 0 && e.to < n) preds[e.to].push(node.id);
  const work: number[] = [];
  const inWork = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) { work.push(i); inWork[i] = 1; }
  const out = new Uint32Array(W);
  while (work.length) {
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
  return {
    has(node: number, key: string): boolean {
      const i = index.get(key);
      return i !== undefined && bit(live, node, i);
    },
  };
}

const COMPARE = new Set(['==', '!=', '<', '>', '<=', '>=']);

/**
 * Variables whose values a condition can decide: tested for truth, compared with a constant or with a variable the
 * function assigns. A counter compared with a global (`++n <= max_ptes`) is never decidable: tracking it would
 * only multiply states.
 */
function trackableIds(atom: Node, assigned: Set<string>, out: Set<string>, depth = 0): void {
  if (depth > 50) return;
  const known = (x: Node | null): boolean => {
    if (!x) return false;
    const u = unwrap(x);
    if (['number_literal', 'char_literal', 'true', 'false', 'null'].includes(u.type)) return true;
    if (u.type === 'identifier') return /^(NULL|true|false)$/.test(u.text) || assigned.has(u.text);
    if (u.type === 'field_expression') return assigned.has(normExpr(u.text));
    if (u.type === 'unary_expression') return known(u.childForFieldName('argument'));
    return false;
  };
  switch (atom.type) {
    case 'identifier':
    case 'field_expression':
      out.add(normExpr(atom.text));
      return;
    case 'parenthesized_expression':
      trackableIds(unwrap(atom), assigned, out, depth + 1);
      return;
    case 'unary_expression': {
      const a = atom.childForFieldName('argument');
      if (a && atom.child(0)?.text === '!') trackableIds(unwrap(a), assigned, out, depth + 1);
      return;
    }
    case 'assignment_expression': {
      const l = atom.childForFieldName('left');
      if (l) out.add(normExpr(l.text));
      return;
    }
    case 'binary_expression': {
      const op = atom.childForFieldName('operator')?.text ?? '';
      const l = atom.childForFieldName('left');
      const r = atom.childForFieldName('right');
      if (!l || !r) return;
      if (op === '&&' || op === '||') {
        trackableIds(unwrap(l), assigned, out, depth + 1);
        trackableIds(unwrap(r), assigned, out, depth + 1);
      } else if (COMPARE.has(op)) {
        if (known(r)) trackableIds(unwrap(l), assigned, out, depth + 1);
        if (known(l)) trackableIds(unwrap(r), assigned, out, depth + 1);
      }
      return;
    }
    default:
      return;
  }
}

/**
 * Predicates treated as pure: a re-test on unchanged arguments gives the same answer (`is_cow_mapping(vma->vm_flags)`
 * tested before range_start and again before range_end is one fact). Kernel naming: is_*, *_mapping, pte_*, pmd_*,
 * pud_* tests (static inline helpers that read their arguments only).
 */
export const PURE_PREDICATE = /^(?:is_\w+|\w+_mapping|pte_(?:none|present|write|dirty|young|special|devmap|protnone|same)|pmd_(?:none|present|trans_huge|devmap|write|dirty|young|bad)|pud_(?:none|present|trans_huge|devmap|bad)|huge_pte_none|vma_is_\w+|PageAnon|PageKsm|PageHuge|PageTransHuge|PageCompound)$/;

/** True when evaluating the expression may change state (calls other than pure predicates, assignments, ++/--). */
function hasSideEffects(n: Node, depth = 0): boolean {
  if (depth > 100) return true;
  const t = n.type;
  if (t === 'call_expression') {
    const f = n.childForFieldName('function');
    if (!f || f.type !== 'identifier' || !PURE_PREDICATE.test(f.text)) return true;
    const args = n.childForFieldName('arguments');
    // `pmd_trans_huge(*pmd)` reads a page-table entry that may change (re-tested after the lock is taken): not one fact.
    if (args && /(^|[(,]\s*)\*/.test(args.text)) return true;
    return !!args && hasSideEffects(args, depth + 1);
  }
  if (t === 'assignment_expression' || t === 'update_expression' || t === 'compound_statement') return true;
  const c = n.namedChildCount;
  for (let i = 0; i < c; i++) {
    const ch = n.namedChild(i);
    if (ch && hasSideEffects(ch, depth + 1)) return true;
  }
  return false;
}

function compare(op: string, a: Val, b: Val): Val | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '==': return a === b ? 1 : 0;
      case '!=': return a !== b ? 1 : 0;
      case '<': return a < b ? 1 : 0;
      case '>': return a > b ? 1 : 0;
      case '<=': return a <= b ? 1 : 0;
      case '>=': return a >= b ? 1 : 0;
      case '&&': return a && b ? 1 : 0;
      case '||': return a || b ? 1 : 0;
      case '+': return clampFact(a + b);
      case '-': return clampFact(a - b);
      default: return undefined;
    }
  }
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return op === '==' || op === '<=' || op === '>=' ? 1 : op === '!=' || op === '<' || op === '>' ? 0 : undefined;
    const ma = /^(R\d+):(lo|hi)$/.exec(a);
    const mb = /^(R\d+):(lo|hi)$/.exec(b);
    if (ma && mb && ma[1] === mb[1]) {
      // lo < hi for the bounds of one range.
      const lt = ma[2] === 'lo';
      switch (op) {
        case '<': case '<=': case '!=': return op === '!=' ? 1 : lt ? 1 : 0;
        case '>': case '>=': return lt ? 0 : 1;
        case '==': return 0;
        default: return undefined;
      }
    }
  }
  return undefined;
}

function paramRelative(key: string, fn: FunctionInfo): string | undefined {
  const m = /^(\*?)([A-Za-z_]\w*)(.*)$/.exec(key);
  if (!m) return undefined;
  const i = fn.params.indexOf(m[2]);
  return i >= 0 ? `${m[1]}$${i}${m[3]}` : undefined;
}

function summarize(fn: FunctionInfo, file: string, exits: State[], obs: Observation[], releasedUnheld: Set<string>, entryLocks: State['locks'], opensRange: boolean,
  rangeIfArgs: number[]): Summary {
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
    // Open exactly on the paths that return 0 (or a guard variable that is 0 when the range is open), closed on the
    // others: a conditional begin helper, like a lock helper that returns 0 with the lock held.
    const retClass = (s: State): string => (s.ret === 'zero' || s.ret?.startsWith('g:falsy') ? 'zero' : s.ret === 'nonzero' || s.ret?.startsWith('g:truthy') ? 'nonzero' : s.ret === 'error' ? 'error' : 'unknown');
    const withRange = exits.filter((s) => openRanges(s) > 0).map(retClass);
    const without = exits.filter((s) => openRanges(s) === 0).map(retClass);
    // A success without a range is allowed when the range depends on arguments (none asked for: none opened).
    const asked = rangeIfArgs.length > 0;
    if (!rangeDeltaConsistent) {
      // (An error return with the range open is a leak on the error path, never the helper's way of saying "started".)
      if (withRange.every((c) => c === 'zero') && without.every((c) => c === 'nonzero' || c === 'error' || (asked && c === 'zero'))) rangeCond = 'zero';
      else if (withRange.every((c) => c === 'nonzero') && without.every((c) => c === 'zero' || (asked && c === 'nonzero'))) rangeCond = 'nonzero';
    }
  } else {
    const unopened = obs.find((o) => o.kind === 'rangeEndUnopened');
    if (unopened) {
      rangeDelta = -1;
      rangeSite = unopened.at;
      // An end helper by design ends the caller's range on every path and opens none itself.
      rangeDeltaConsistent = !opensRange && exits.length > 0 && exits.every((s) => s.under);
    }
  }
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

