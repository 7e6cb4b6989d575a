// interval-sequence: the two halves of the interval-notifier protocol (Documentation/mm/hmm.rst): the invalidate
// callback sets the sequence under the driver lock on the paths that return true; the mapping path keeps the sequence
// of mmu_interval_read_begin() and tests mmu_interval_read_retry() with it, under that lock, before it commits.
import { DRIVER_LOCK, DRIVER_TRYLOCK, DRIVER_UNLOCK } from '../kernel/subscriber';
import { endingAt, isLockName, isUnlockName, pathFromChain, walkStates } from './paths';
import { blankComments } from './ops';
import type { FnRef, Graph } from './walk';
import { normExpr, unwrap, type Node } from '../parse/syntax';
import type { CallOp } from '../dataflow/ops';
import type { PathEvent, RelatedInfo } from '../engine/types';
import { dirname } from 'node:path';
import type { Callback, SubFinding, SubscriberView } from './types';


const RETRY = new Set(['mmu_interval_read_retry', 'mmu_interval_check_retry']);

export function intervalFindings(view: SubscriberView, callbacks: Callback[]): SubFinding[] {
  if (!view.model.unknown && view.model.before(5, 5)) return [];
  const out: SubFinding[] = [];
  const invalidates = callbacks.filter((c) => c.kind === 'interval' && c.field === 'invalidate');
  // An invalidate is in the protocol when it calls set_seq on some path, or when a retry tests a notifier that was
  // inserted with its ops (same notifier expression: hfi1 has a retried "cover" notifier next to unretried node ones).
  const inserted = new Map<string, string[]>(); // ops -> notifier expressions
  const retried = new Set<string>();
  for (const { text } of view.files()) {
    const src = blankComments(text);
    for (const m of src.matchAll(/\bmmu_interval_notifier_insert(?:_locked)?\s*\(\s*([^,]+),[^;]*?,\s*&?\s*(\w+)\s*\)\s*;/g)) {
      const l = inserted.get(m[2]) ?? [];
      l.push(normExpr(m[1]));
      inserted.set(m[2], l);
    }
    for (const m of src.matchAll(/\bmmu_interval_(?:read|check)_retry\s*\(\s*([^,]+),/g)) retried.add(normExpr(m[1]));
  }
  const seen = new Set<string>();
  for (const cb of invalidates) {
    const k = `${cb.ref.file}\0${cb.ref.fn.start}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const setsSeq = /\bmmu_interval_set_seq\s*\(/.test(blankComments(cb.ref.text.slice(cb.ref.fn.bodyStart, cb.ref.fn.end)));
    if (!setsSeq && !(inserted.get(cb.ops) ?? []).some((e) => retried.has(e))) continue;
    out.push(...noSetSeq(view, cb));
  }
  for (const { file, text } of view.files()) {
    if (!/mmu_interval_(?:read_begin|read_retry|check_retry)\s*\(/.test(text)) continue;
    for (const ref of view.functions(file, (t) => /mmu_interval_(?:read_begin|read_retry|check_retry)\s*\(/.test(t))) {
      view.tick();
      const wanted = new Set<string>();
      for (const c of invalidates) if (dirname(c.ref.file) === dirname(file)) for (const l of invalidateLockIds(view, c.ref)) wanted.add(l);
      out.push(...mappingPath(view, ref, wanted));
    }
  }
  return out;
}


/** An interval invalidate that can return true without mmu_interval_set_seq() on the path. */
function noSetSeq(view: SubscriberView, cb: Callback): SubFinding[] {
  const g = view.graph(cb.ref);
  const nodes = g.cfg.nodes;
  const setsSeq = (op: CallOp): boolean => op.name === 'mmu_interval_set_seq' || view.defs(op.name, cb.ref.file).slice(0, 2).some((d) => /\bmmu_interval_set_seq\s*\(/.test(d.text.slice(d.fn.bodyStart, d.fn.end)));
  const out: SubFinding[] = [];
  const reported = new Set<number>();
  // State bits: 1 = set_seq called, 2 = a range->event / range->owner test was passed.
  walkStates<number>(g, 0, String, () => view.tick(), (id, state, chain) => {
    let st = state;
    for (const op of g.ops[id]) {
      if (op.k === 'call' && !(st & 1) && setsSeq(op)) st |= 1;
      if (op.k === 'return' && !(st & 1) && op.value && /^(?:true|1)$/.test(unwrap(op.value).text) && !reported.has(id)) {
        reported.add(id);
        const n = nodes[id].syntax!;
        const path = pathFromChain(cb.ref, g, chain());
        path.push({ event: 'return', file: cb.ref.file, line: n.startPosition.row + 1, column: n.startPosition.column + 1, detail: 'true' });
        const deliberate = (st & 2) !== 0;
        out.push({
          rule: 'interval-sequence', variant: 'no-set-seq', file: cb.ref.file, fn: cb.ref.fn.name, node: n, path,
          severity: deliberate ? 'hint' : undefined,
          message: deliberate
            ? `${cb.ref.fn.name}() returns true without mmu_interval_set_seq() after a test of range->event/owner: deliberate (the driver's own invalidation)`
            : `interval invalidate ${cb.ref.fn.name}() returns true without mmu_interval_set_seq() on this path`,
          detail: deliberate
            ? 'The path skips mmu_interval_set_seq() only under a test of range->event or range->owner: the invalidation the driver starts itself (a migration to its own device memory), where no mapping path needs to retry. Not reported as an error.'
            : 'An interval notifier\'s invalidate must call mmu_interval_set_seq(mni, cur_seq) under the driver lock before it returns true (Documentation/mm/hmm.rst, v5.5 99cb252f5e68): otherwise a mapping path that checks mmu_interval_read_retry() under that lock sees no change and programs the device with a page that is being unmapped. The device keeps a stale translation of a freed page.',
          related: [{ file: cb.file, line: cb.line, column: cb.column, message: `${cb.ref.fn.name}() is the invalidate callback of ${cb.ops}` }],
          noFix: 'Where mmu_interval_set_seq() goes depends on the driver lock that its mapping path holds: add it under that lock by hand.',
        });
      }
    }
    const syn = nodes[id].syntax;
    const tested = nodes[id].kind === 'cond' && !!syn && /(?:->|\.)\s*(?:event|owner)\b/.test(syn.text);
    return { next: () => (tested ? st | 2 : st) };
  });
  return out;
}

/** Uses of an identifier in a function's operations: tested, passed on, returned or stored. */
function usesOf(g: Graph, name: string, except: Node): { tested: boolean; retried: boolean; escapes: boolean } {
  const re = new RegExp(`\\b${name}\\b`);
  let tested = false;
  let retried = false;
  let escapes = false;
  for (const n of g.cfg.nodes) {
    if (n.kind === 'cond' && n.syntax && re.test(n.syntax.text)) tested = true;
  }
  for (const ops of g.ops) {
    for (const op of ops) {
      if (op.k === 'call' && op.node !== except && op.args.some((a) => re.test(a.text))) {
        if (RETRY.has(op.name)) retried = true;
        else escapes = true;
      }
      if (op.k === 'return' && op.value && re.test(op.value.text)) escapes = true;
      if (op.k === 'assign' && op.rhs && re.test(op.rhs.text) && op.target !== name) {
        if (/->|\./.test(op.target)) escapes = true;
        else tested = tested || false;
      }
    }
  }
  return { tested, retried, escapes };
}

/** A sequence kept in a local, or in a field of a local structure (`range.notifier_seq` of a local `struct hmm_range`). */
function localSeq(g: Graph, lhs: string): boolean {
  const m = /^([A-Za-z_]\w*)(?:\.[\w.]+)?$/.exec(lhs);
  return !!m && g.locals.has(m[1]);
}

/** Is the sequence stored into a structure through a pointer, passed to a function other than a retry, or returned? */
function seqEscapes(g: Graph, seq: string): boolean {
  for (const ops of g.ops) {
    for (const op of ops) {
      if (op.k === 'assign' && op.rhs && normExpr(op.rhs.text) === seq && op.target !== seq) return true;
      if (op.k === 'call' && !RETRY.has(op.name) && op.name !== 'mmu_interval_read_begin' && op.args.some((a) => normExpr(a.text) === seq)) return true;
      if (op.k === 'return' && op.value && normExpr(op.value.text) === seq) return true;
    }
  }
  return false;
}

function isDiscarded(call: Node): boolean {
  let p = call.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) p = p.parent;
  return !!p && p.type === 'expression_statement';
}

function mappingPath(view: SubscriberView, ref: FnRef, invalidateLocks: Set<string>): SubFinding[] {
  const g = view.graph(ref);
  const out: SubFinding[] = [];
  const calls: CallOp[] = [];
  for (const ops of g.ops) for (const op of ops) if (op.k === 'call') calls.push(op);
  const begins = calls.filter((c) => c.name === 'mmu_interval_read_begin');
  const retries = calls.filter((c) => RETRY.has(c.name));
  const ev = (op: CallOp, detail?: string): PathEvent => ({ event: 'call', file: ref.file, line: op.node.startPosition.row + 1, column: op.node.startPosition.column + 1, callee: op.name, detail });
  const entry: PathEvent = { event: 'entry', file: ref.file, line: ref.fn.line, column: 1, detail: `${ref.fn.name} (device mapping path)` };
  const base = { rule: 'interval-sequence' as const, file: ref.file, fn: ref.fn.name, related: [] as RelatedInfo[] };
  const protocol = 'The mapping path of an interval notifier (Documentation/mm/hmm.rst, v5.5) must take seq = mmu_interval_read_begin(), fault the pages in, take the driver lock that the invalidate callback takes, and retry when mmu_interval_read_retry(mni, seq) says so, before it programs the device; otherwise an invalidation that runs in between leaves the device with a stale translation of a page that is then freed.';
  for (const b of begins) {
    const lhs = b.lhs;
    if (isDiscarded(b.node)) {
      // Without the protocol, a dropped sequence is the wait for invalidations in progress (mmu_interval_read_begin() sleeps until they end).
      // Drivers drop it on purpose to wait for the invalidations in progress (gntdev_mmap(), xe's unbind_op_prepare(),
      // radeon and hfi1 say so): a hint, not an error.
      out.push({ ...base, variant: 'no-retry', severity: 'hint', node: b.node, path: [entry, ev(b, 'sequence thrown away')], message: `the sequence mmu_interval_read_begin() returns is dropped in ${ref.fn.name}(): a wait for the invalidations in progress, not a mapping protocol`, detail: `${protocol} Dropping the sequence is the idiom for waiting until invalidations in progress end (mmu_interval_read_begin() sleeps until then); it is a bug only when the code goes on to program the device from pages it looked up before, trusting that no invalidation ran.`, noFix: 'If this is the start of a mapping path, keep the sequence and test mmu_interval_read_retry() with it under the driver lock before the device is programmed.' });
      continue;
    }
    if (!lhs || !/^[A-Za-z_]\w*$/.test(lhs) || !g.locals.has(lhs)) continue; // stored in a structure: checked where it is used
    const u = usesOf(g, lhs, b.node);
    if (!u.retried && !u.escapes) {
      out.push({ ...base, variant: 'no-retry', node: b.node, path: [entry, ev(b, `sequence kept in ${lhs}`)], message: `the sequence from mmu_interval_read_begin() never reaches mmu_interval_read_retry() in ${ref.fn.name}()`, detail: protocol, noFix: 'Test mmu_interval_read_retry(mni, seq) under the driver lock before the device is programmed, and retry when it returns true.' });
    }
  }
  for (const r of retries) {
    if (isDiscarded(r.node)) {
      out.push({ ...base, variant: 'retry-ignored', node: r.node, path: [entry, ...begins.slice(0, 1).map((b) => ev(b)), ev(r, 'result unused')], message: `the result of ${r.name}() decides nothing in ${ref.fn.name}()`, detail: protocol, noFix: 'Retry (or fail) when the test returns true.' });
      continue;
    }
    if (r.lhs && /^[A-Za-z_]\w*$/.test(r.lhs) && g.locals.has(r.lhs)) {
      const u = usesOf(g, r.lhs, r.node);
      if (!u.tested && !u.escapes) {
        out.push({ ...base, variant: 'retry-ignored', node: r.node, path: [entry, ...begins.slice(0, 1).map((b) => ev(b)), ev(r, `result kept in ${r.lhs}, never tested`)], message: `the result of ${r.name}() decides nothing in ${ref.fn.name}()`, detail: protocol, noFix: 'Retry (or fail) when the test returns true.' });
        continue;
      }
    }
  }
  // A whole mapping path in one function (the sequence stays in it): the retry that decides must run under a lock.
  // A sequence stored in a structure is tested again elsewhere (i915 re-checks it under its notifier lock at submit).
  const kept = begins.map((b) => b.lhs).filter((l): l is string => !!l && localSeq(g, l) && !seqEscapes(g, l));
  if (kept.length && retries.length && invalidateLocks.size) {
    const unlocked = retryWithoutLock(view, ref, g, kept, invalidateLocks);
    if (unlocked) {
      const under = unlocked.held.length ? `under ${unlocked.held.join(', ')}, not under the lock the invalidate callback takes (${[...invalidateLocks].join(', ')})` : 'without the driver lock';
      out.push({ ...base, variant: 'retry-unlocked', node: unlocked.op.node, path: unlocked.path, message: `${unlocked.op.name}() is tested ${under} in ${ref.fn.name}()`, detail: `${protocol} Tested without the invalidate callback's lock, the check can pass and an invalidation can run before the device is programmed.`, noFix: 'Take the lock that the invalidate callback takes before the test, and hold it until the device is programmed.' });
    }
  }
  return out;
}

/** A retry call reached with no lock held (lock depth tracked along paths, capped at 2). */
/** A lock's identity across functions: the last field of its expression (`svmm->mutex` and `sn->svmm->mutex` agree), or a wrapper's stem (`svm_range_lock()`/`svm_range_unlock()`). */
function lockId(op: CallOp): string {
  if (!DRIVER_LOCK.test(op.name) && !DRIVER_UNLOCK.test(op.name) && !DRIVER_TRYLOCK.test(op.name)) return op.name.replace(/_(?:un)?lock$/, '');
  const a = op.args[0] ? normExpr(op.args[0].text) : op.name;
  return /([A-Za-z_]\w*)$/.exec(a)?.[1] ?? a;
}

/** The locks an interval invalidate callback takes (their identities). */
function invalidateLockIds(view: SubscriberView, ref: FnRef): Set<string> {
  const out = new Set<string>();
  for (const ops of view.graph(ref).ops) for (const op of ops) if (op.k === 'call' && (isLockName(op.name) || DRIVER_TRYLOCK.test(op.name))) out.add(lockId(op));
  return out;
}

/**
 * A retry (of a sequence kept in this function) reached with no lock held, or holding none of the locks the invalidate
 * callbacks of the driver take (`wanted`, when known). Held locks are tracked along paths by identity.
 */
function retryWithoutLock(view: SubscriberView, ref: FnRef, g: Graph, seqs: string[], wanted: Set<string>): { op: CallOp; path: PathEvent[]; held: string[] } | undefined {
  let found: { op: CallOp; path: PathEvent[]; held: string[] } | undefined;
  const add = (held: string[], op: CallOp): string[] => [...new Set([...held, lockId(op)])].sort();
  walkStates<string[]>(g, [], (h) => h.join(','), () => view.tick(), (id, state, chain) => {
    let held = state;
    let trylock: CallOp | undefined;
    for (const op of g.ops[id]) {
      if (op.k !== 'call') continue;
      if (op.name === 'mmu_interval_read_retry' && op.args.some((a) => seqs.includes(normExpr(a.text))) && (held.length === 0 || (wanted.size > 0 && !held.some((h) => wanted.has(h))))) {
        const path = endingAt(pathFromChain(ref, g, chain()), ref.file, op, held.length ? `tested under ${held.join(', ')}, not under the lock the invalidate callback takes (${[...wanted].join(', ')})` : 'tested with no driver lock held');
        found = { op, path, held };
        return undefined;
      }
      if (DRIVER_TRYLOCK.test(op.name) && op.isCondAtom) trylock = op;
      else if (isLockName(op.name)) held = add(held, op);
      else if (isUnlockName(op.name)) held = held.filter((h) => h !== lockId(op));
    }
    return {
      next: (kind) => {
        const nh = trylock && (kind === 'true') !== !!trylock.condInverted ? add(held, trylock) : held;
        return nh.length > 4 ? nh.slice(0, 4) : nh;
      },
    };
  }, 20000);
  return found;
}
