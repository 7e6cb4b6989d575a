// Transfer functions: what one CFG node's operations (calls, assignments, returns) do to a path state, and what they
// record in the sink. Calls are dispatched by what the callee is (Transfer.call): a notifier call, a lock helper, an
// unlock helper, a spin lock or lockdep assertion on a page-table lock, or an analysed function with a summary.
import type { CfgNode } from '../cfg/build';
import type { CallOp, Op } from './ops';
import { unwrap, normExpr, type FunctionInfo, type Node } from '../parse/syntax';
import type { KernelModel, NotifierInfo, LockHelper, UnlockHelper } from '../kernel/model';
import { SPIN_LOCK, SPIN_TRYLOCK, SPIN_UNLOCK, isPtlExpr } from '../kernel/model';
import {
  addLock, clampFact, pushEvent, removeLock, MAX_RANGES,
  type Ev, type Guard, type HeldLock, type OpenRange, type State, type Val,
} from './state';
import { hasEffect, leaksRange, substituteKey, type Summary } from './summary';
import { posOf } from './position';
import { evalVal } from './values';
import { paramRelative } from './summarize';
import type { Prepared } from './prepare';
import type { Sink } from './sink';
import type { AnalysisContext, Observation } from './analyze';

/** Entry state: locks promised by __releases()/__must_hold() contracts on this function. */

/** Spellings of the current mm's page_table_lock (the PMD-level lock before split PMD locks, v3.13). */
const SAME_MM_PTL = /^(?:mm|tlb->mm|(?:vmf->)?vma->vm_mm|walk->mm)->page_table_lock$/;
export function entryState(fn: FunctionInfo, ctx: AnalysisContext): State {
  const file = ctx.file;
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
  return init;
}

/** Lock key from a helper argument: a struct holding the lock (field), a pointer to the lock pointer (&ptl), or the lock pointer. */
function lockKeyFromArg(arg: Node | undefined, field?: string, lockPointer = false): string | undefined {
  if (!arg) return undefined;
  const t = arg.text.replace(/\s+/g, '');
  if (field) return t.startsWith('&') ? normExpr(`${t.slice(1)}.${field}`) : normExpr(`(${t})->${field}`);
  if (lockPointer) return normExpr(t);
  return t.startsWith('&') ? normExpr(t) : normExpr(`*(${t})`);
}

/** What says whether a helper's lock (or range) is held after the call: its cond node, or the variable it is assigned to. */
function guardFor(op: CallOp, returns: LockHelper['returns'], nodeId: number): Guard | undefined {
  if (returns === 'always') return undefined;
  let polarity: Guard['polarity'] = returns === 'zero' ? 'falsy' : 'truthy';
  if (op.isCondAtom && op.condInverted) polarity = polarity === 'truthy' ? 'falsy' : 'truthy';
  if (op.isCondAtom) return { node: nodeId, polarity };
  if (op.lhs) return { v: op.lhs, polarity };
  return undefined;
}

/** Node transfer of one function's walk: applies a node's operations to a path state (mutated in place). */
export class Transfer {
  private readonly model: KernelModel;
  private readonly file: string;

  constructor(private readonly fn: FunctionInfo, private readonly ctx: AnalysisContext, private readonly prep: Prepared, private readonly sink: Sink) {
    this.model = ctx.model;
    this.file = ctx.file;
  }

  /** Applies the operations of node `n` to `s`, in evaluation order. */
  node(s: State, n: CfgNode): void {
    const file = this.file;
    if (n.kind === 'goto') pushEvent(s, { file, line: n.line, column: (n.syntax?.startPosition.column ?? 0) + 1, event: 'goto', detail: n.label });
    for (const op of this.prep.ops[n.id]) {
      if (op.k === 'call') this.call(s, op, n.id);
      else if (op.k === 'assign') this.assign(s, op);
      else this.ret(s, op.value);
    }
    if (n.kind === 'return' && n.syntax) pushEvent(s, posOf(file, n.syntax, 'return', { detail: n.label }));
  }

  /** A path reaches the function's exit: a range it opened itself and left open is an observation. */
  exit(s: State): void {
    const own = s.ranges.filter((r) => !r.leaked);
    if (own.length > 0) {
      this.sink.observe(s, 'exitRangeOpen', s.pending ?? own[own.length - 1].site, this.fn.node, { pending: s.pending });
    }
  }

  private isPtl(key: string): boolean {
    const ptlVars = this.prep.ptlVars;
    return isPtlExpr(key) || ptlVars.has(key) || ptlVars.has(key.replace(/^\*/, ''));
  }

  /** A call, by what the callee is (the first that applies). */
  private call(s: State, op: CallOp, nodeId: number): void {
    const name = op.name;
    const info = this.model.notifier(name);
    if (info) return this.notifierCall(s, op, info, nodeId);
    const lh = this.model.lockHelperFor(name, op.args.length);
    if (lh) return this.lockHelperCall(s, op, lh, nodeId);
    const uh = this.model.unlockHelper(name);
    if (uh) return this.unlockHelperCall(s, op, uh);
    if (this.spinLockCall(s, op, nodeId)) return;
    const sum = this.ctx.summaryOf(name);
    if (sum && hasEffect(sum)) {
      this.sink.usedSummaries.add(name);
      this.summaryCall(s, op, sum, nodeId);
    }
  }

  // ---- locks -------------------------------------------------------------------------------------------------

  private acquire(s: State, key: string, n: Node, name: string, guard: Guard | undefined, via?: string): void {
    const ev = posOf(this.file, n, 'lock', { lock: key, detail: `${name}() takes ${key}`, via });
    addLock(s, { key, site: ev, guard });
    pushEvent(s, ev);
    this.sink.noteSite('lock', key, ev);
  }

  private release(s: State, lockKey: string, n: Node, name: string, via?: string): void {
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
    if (!held && SAME_MM_PTL.test(key)) {
      // The mm's page_table_lock under another spelling of the same mm (taken through vma->vm_mm, released through
      // tlb->mm in zap_huge_pmd() before v3.13): one lock, when only one such lock is held.
      const same = s.locks.filter((l) => l.key !== key && SAME_MM_PTL.test(l.key));
      if (same.length === 1) {
        held = removeLock(s, same[0].key);
        key = same[0].key;
      }
    }
    const ev = posOf(this.file, n, 'unlock', { lock: key, detail: `${name}() releases ${key}`, via });
    this.sink.noteSite('unlock', key, ev);
    if (!held) {
      if (this.isPtl(key) || via) this.sink.releasedUnheld.add(key);
      return;
    }
    pushEvent(s, ev);
  }

  /** A lock helper of the kernel model or the settings (pte_offset_map_lock(), pmd_lock(), page_vma_mapped_walk(), ...). */
  private lockHelperCall(s: State, op: CallOp, lh: LockHelper, nodeId: number): void {
    const name = op.name;
    if (lh.releasesFirst) {
      const k = lockKeyFromArg(op.args[lh.lockArg as number], lh.field);
      if (k && s.locks.some((l) => l.key === k)) this.release(s, k, op.node, name);
    }
    let key = lh.lockArg === 'return' ? op.lhs ?? `${name}()` : lockKeyFromArg(op.args[lh.lockArg], lh.field);
    if (lh.mmPageTableLockOfArg !== undefined && op.args[lh.mmPageTableLockOfArg]) {
      key = this.prep.mmLocal ? 'mm->page_table_lock' : normExpr(`(${op.args[lh.mmPageTableLockOfArg].text})->vm_mm->page_table_lock`);
    }
    if (key) this.acquire(s, key, op.node, name, guardFor(op, lh.returns, nodeId));
    // A success also starts the caller's range when the range arguments are given (follow_pte_pmd with bounds).
    if (lh.rangeArgs && !lh.rangeArgs.some((i) => !op.args[i] || /^(NULL|0)$/.test(op.args[i].text.trim()))) {
      const ev = posOf(this.file, op.node, 'range_start', { via: name, detail: `${name}() starts the range when it succeeds` });
      pushEvent(s, ev);
      this.openRange(s, { site: ev, guard: guardFor(op, lh.returns, nodeId) });
    }
  }

  /** An unlock helper of the kernel model or the settings (pte_unmap_unlock(), ...). */
  private unlockHelperCall(s: State, op: CallOp, uh: UnlockHelper): void {
    const key = lockKeyFromArg(op.args[uh.lockArg < 0 ? op.args.length + uh.lockArg : uh.lockArg], uh.field, true);
    if (key) this.release(s, key, op.node, op.name);
  }

  /** spin_lock()/spin_trylock()/spin_unlock() of a page-table lock, and lockdep assertions; false for other calls. */
  private spinLockCall(s: State, op: CallOp, nodeId: number): boolean {
    const name = op.name;
    if (SPIN_LOCK.has(name) || SPIN_TRYLOCK.has(name)) {
      const key = op.args[0] ? normExpr(op.args[0].text) : '';
      if (key && this.isPtl(key)) this.acquire(s, key, op.node, name, SPIN_TRYLOCK.has(name) ? guardFor(op, 'bool', nodeId) : undefined);
      return true;
    }
    if (name === 'lockdep_assert_held' || name === 'lockdep_assert_held_once' || name === 'assert_spin_locked') {
      // The function documents that its caller holds this lock: treat it as held since entry.
      const key = op.args[0] ? normExpr(op.args[0].text) : '';
      if (key && this.isPtl(key) && !s.locks.some((l) => l.key === key)) {
        const ev = posOf(this.file, op.node, 'lock', { lock: key, detail: `${name}(${key}): held by the caller` });
        addLock(s, { key, site: ev, onEntry: true });
        pushEvent(s, ev);
        this.sink.entryAsserted.add(key);
      }
      return true;
    }
    if (SPIN_UNLOCK.has(name)) {
      const key = op.args[0] ? normExpr(op.args[0].text) : '';
      if (key && (this.isPtl(key) || s.locks.some((l) => l.key === key))) this.release(s, key, op.node, name);
      return true;
    }
    return false;
  }

  // ---- ranges and notifier calls -----------------------------------------------------------------------------

  private openRange(s: State, range: OpenRange): void {
    if (s.ranges.length < MAX_RANGES) s.ranges = s.ranges.concat([range]);
  }

  /** A range end: closes the innermost open range, or ends a range this function never opened (the caller's, or a bug). */
  private closeRange(s: State, ev: Ev, n: Node, extra: Partial<Observation>): void {
    if (s.ranges.length > 0) {
      s.ranges = s.ranges.slice(0, -1);
      if (s.ranges.length === 0) s.pending = null;
    } else {
      s.under = true;
      this.sink.observe(s, 'rangeEndUnopened', ev, n, extra);
    }
  }

  /** A notifier call of the kernel model: set_pte_at_notify(), a range start or end, or another notifier (that may sleep). */
  private notifierCall(s: State, op: CallOp, info: NotifierInfo, nodeId: number): void {
    const n = op.node;
    if (/^mmu_notifier_range_init/.test(info.name) && op.args[0]) {
      const r = lockKeyFromArg(op.args[0], 'start');
      if (r) s.facts.delete(r);
    }
    if (info.role === 'change_pte') return this.changePte(s, n, info);
    const evKind = info.role === 'range_start' ? 'range_start' : info.role === 'range_end' ? 'range_end' : /clear_flush.*_notify$/.test(info.name) && !/young/.test(info.name) ? 'clear_flush_notify' : 'notifier_call';
    const ev = posOf(this.file, n, evKind, { callee: info.name, maySleep: info.maySleep, detail: info.expansion ? `${info.name}() (${info.expansion})` : `${info.name}()`, expansion: info.expansion });
    pushEvent(s, ev);
    if (info.maySleep) this.sink.observe(s, 'sleeping', ev, n, { callee: info.name, notifier: info });
    if (info.role === 'range_start') this.rangeStart(s, op, info, nodeId, ev);
    else if (info.role === 'range_end') this.closeRange(s, ev, n, { callee: info.name });
  }

  /** set_pte_at_notify() (or what stands for it in this version). */
  private changePte(s: State, n: Node, info: NotifierInfo): void {
    const ev = posOf(this.file, n, 'set_pte_at_notify', { callee: info.name, detail: `${info.name}()` });
    pushEvent(s, ev);
    if (s.ranges.length > 0) {
      if (!s.pending) s.pending = ev;
    }
    this.sink.observe(s, 'changePte', ev, n, { callee: info.name, notifier: info, origin: ev });
  }

  private rangeStart(s: State, op: CallOp, info: NotifierInfo, nodeId: number, ev: Ev): void {
    this.sink.opensRange = true;
    // Parameters known non-zero here (`if (start && end) range_start(...)`): the range is opened only when the
    // caller passes them (kept as the intersection over every range start of the function).
    const nz = this.fn.params.filter((p) => { const v = s.facts.get(p); return v !== undefined && v !== 0; });
    const req = this.sink.rangeRequires;
    this.sink.rangeRequires = req ? req.filter((p) => nz.includes(p)) : nz;
    // The non-blocking start fails with -EAGAIN without opening the range.
    const guard = /_nonblock$/.test(info.name) ? guardFor(op, 'zero', nodeId) : undefined;
    this.openRange(s, { site: ev, guard });
    // New API range_start(&range): code that tests range.start afterwards relies on the range being non-empty.
    const tracked = this.prep.tracked;
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
  }

  // ---- calls of analysed functions ---------------------------------------------------------------------------

  /** A call whose summary has an effect: the callee's effects, in the caller's terms. */
  private summaryCall(s: State, op: CallOp, sum: Summary, nodeId: number): void {
    const n = op.node;
    const args = op.args.map((a) => a.text);
    const callEv = posOf(this.file, n, 'call', { callee: sum.name, detail: `${sum.name}()` });
    pushEvent(s, callEv);
    // Locks the callee drops come first: "unlock, sleep, relock" helpers do not sleep under the caller's lock.
    for (const r of sum.releases) {
      if (r === '$held') {
        // The callee asserts and drops "the caller's lock": the one the caller took last.
        const last = s.locks.reduce<HeldLock | undefined>((a, l) => (!a || (l.site.offset ?? 0) > (a.site.offset ?? 0) ? l : a), undefined);
        if (last) this.release(s, last.key, n, sum.name, sum.name);
        continue;
      }
      const key = substituteKey(r, args, op.lhs, sum.name, normExpr);
      this.release(s, key, n, sum.name, sum.name);
    }
    this.summaryEffects(s, n, sum);
    for (const a of sum.acquires) {
      const key = substituteKey(a.key, args, op.lhs, sum.name, normExpr);
      const returns: LockHelper['returns'] = a.cond === 'always' ? 'always' : a.cond === 'zero' ? 'zero' : 'pointer';
      this.acquire(s, key, n, sum.name, guardFor(op, returns, nodeId), sum.name);
    }
    this.summaryRangeStart(s, op, sum, nodeId);
  }

  /** What the callee does between dropping and taking locks: sleeps, ends the caller's range, changes a PTE. */
  private summaryEffects(s: State, n: Node, sum: Summary): void {
    const file = this.file;
    if (sum.sleeps) {
      const ev = posOf(file, n, 'notifier_call', { callee: sum.sleeps.callee, maySleep: true, via: sum.name, detail: `${sum.name}() calls ${sum.sleeps.callee}() (line ${sum.sleeps.site.line})` });
      pushEvent(s, ev);
      this.sink.observe(s, 'sleeping', ev, n, { callee: sum.sleeps.callee, via: sum.name, viaPath: sum.sleeps.path });
    }
    if (sum.rangeDelta < 0) {
      const ev = posOf(file, n, 'range_end', { via: sum.name, detail: `${sum.name}() ends the range` });
      pushEvent(s, ev);
      this.closeRange(s, ev, n, { callee: sum.name, via: sum.name });
    }
    if (sum.changePte) {
      const origin = sum.changePte.origin ?? sum.changePte.site;
      const ev = posOf(file, n, 'set_pte_at_notify', { via: sum.name, callee: 'set_pte_at_notify', detail: `${sum.name}() calls set_pte_at_notify() (${origin.file === file ? '' : `${origin.file}:`}line ${origin.line})` });
      pushEvent(s, ev);
      if (s.ranges.length > 0 && !s.pending) s.pending = ev;
      this.sink.observe(s, 'changePte', ev, n, { callee: sum.name, via: sum.name, viaKey: `${sum.file}\0${sum.name}`, viaPath: sum.changePte.path, origin });
    }
  }

  /** The callee returns with a range open (on every path, or when it returns the value rangeCond says). */
  private summaryRangeStart(s: State, op: CallOp, sum: Summary, nodeId: number): void {
    // The range opens only when the caller passes the arguments it depends on (follow_pte() passes NULL bounds).
    const isNullArg = (i: number): boolean => !!op.args[i] && /^(NULL|0|\(\s*void\s*\*\s*\)\s*0)$/.test(op.args[i].text.trim());
    if (sum.rangeDelta > 0 && !(sum.rangeIfArgs ?? []).some(isNullArg)) {
      const when = sum.rangeCond ? ` when it returns ${sum.rangeCond === 'zero' ? '0' : 'non-zero'}` : '';
      const ev = posOf(this.file, op.node, 'range_start', { via: sum.name, detail: `${sum.name}() opens a range and returns with it open${when}` });
      pushEvent(s, ev);
      const guard = sum.rangeCond ? guardFor(op, sum.rangeCond === 'zero' ? 'zero' : 'pointer', nodeId) : undefined;
      this.openRange(s, { site: ev, guard, leaked: leaksRange(sum) || undefined });
    }
  }

  // ---- assignments and returns -------------------------------------------------------------------------------

  private assign(s: State, op: Extract<Op, { k: 'assign' }>): void {
    const t = op.target;
    const fn = this.fn;
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
    const condVars = this.prep.condVars;
    const affected = condVars.get(t) ?? condVars.get(t.split(/[.>-]/)[0]);
    if (affected) for (const k of affected) s.facts.delete(k);
    // A re-assigned guard variable no longer says whether the lock is held: assume it is.
    if (s.locks.some((l) => l.guard?.v === t) && !(op.rhs && op.rhs.type === 'call_expression')) {
      s.locks = s.locks.map((l) => (l.guard?.v === t ? { ...l, guard: undefined } : l));
    }
    if (!this.prep.tracked.has(t)) return;
    let v: Val | undefined;
    if (op.op === '=' && op.rhs) v = evalVal(s, op.rhs);
    else if (op.op === '++' || op.op === '--' || op.op === '+=' || op.op === '-=') {
      const cur = s.facts.get(t);
      const d = op.op === '++' ? 1 : op.op === '--' ? -1 : typeof (op.rhs && evalVal(s, op.rhs)) === 'number' ? (evalVal(s, op.rhs) as number) * (op.op === '+=' ? 1 : -1) : undefined;
      v = typeof cur === 'number' && d !== undefined ? clampFact(cur + d) : undefined;
    }
    if (v === undefined) s.facts.delete(t);
    else s.facts.set(t, v);
  }

  /** The class of the returned value (for the summary: which return values mean "locked" or "range open"). */
  private ret(s: State, value: Node | null): void {
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
  }
}
