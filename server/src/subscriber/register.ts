// register-under-mmap-lock: mmu_notifier_register(), mmu_notifier_get() and mmu_interval_notifier_insert() take the
// mmap lock themselves; called (directly or through a wrapper) on a path where the caller holds it, they deadlock.
import { isMmapLockExpr, REGISTER_TAKES } from '../kernel/subscriber';
import type { FnRef } from './walk';
import { normExpr } from '../parse/syntax';
import type { CallOp } from '../dataflow/ops';
import type { PathEvent } from '../engine/types';
import { endingAt, pathFromChain, walkStates } from './paths';
import type { SubFinding, SubscriberView } from './types';


const MMAP_LOCK = /^(?:mmap_read_lock|mmap_write_lock|mmap_read_lock_killable|mmap_write_lock_killable|down_read|down_write|down_read_killable|down_write_killable)$/;
const MMAP_UNLOCK = /^(?:mmap_read_unlock|mmap_write_unlock|up_read|up_write|mmap_write_downgrade)$/;
const MMAP_TRYLOCK = /^(?:mmap_read_trylock|mmap_write_trylock|down_read_trylock|down_write_trylock)$/;

function mmapArg(op: CallOp): boolean {
  if (/^mmap_/.test(op.name)) return true;
  const a = op.args[0];
  return !!a && isMmapLockExpr(normExpr(a.text));
}

export function registerFindings(view: SubscriberView): SubFinding[] {
  const out: SubFinding[] = [];
  const files = view.files();
  // Wrappers: functions that call a registration that takes the mmap lock, and do not take it themselves.
  const takes = new Map<string, string>(); // name -> the registration it reaches
  for (const r of REGISTER_TAKES) takes.set(r, r);
  const regRe = /\b(?:mmu_notifier_register|mmu_interval_notifier_insert|mmu_notifier_get)\s*\(/;
  for (const { file, text } of files) {
    if (!regRe.test(text)) continue;
    for (const ref of view.functions(file, (t) => regRe.test(t))) {
      const body = ref.text.slice(ref.fn.bodyStart, ref.fn.end);
      if (/mmap_(?:read|write)_lock|mmap_sem|mmap_lock/.test(body)) continue;
      const m = /\b(mmu_notifier_register|mmu_interval_notifier_insert|mmu_notifier_get)\s*\(/.exec(body);
      if (m && !takes.has(ref.fn.name)) takes.set(ref.fn.name, m[1]);
    }
  }
  const names = [...takes.keys()];
  const callRe = new RegExp(`\\b(?:${names.join('|')})\\s*\\(`);
  const lockRe = /mmap_(?:read|write)_lock|mmap_sem|mmap_lock/;
  for (const { file, text } of files) {
    if (!callRe.test(text) || !lockRe.test(text)) continue;
    for (const ref of view.functions(file, (t) => callRe.test(t) && lockRe.test(t))) {
      const hit = registerUnderLock(view, ref, takes);
      if (!hit) continue;
      const reg = takes.get(hit.op.name)!;
      const via = reg === hit.op.name ? '' : ` (through ${hit.op.name}(), which calls ${reg}())`;
      out.push({
        rule: 'register-under-mmap-lock', variant: 'register-locked', file: ref.file, fn: ref.fn.name, node: hit.op.node, path: hit.path,
        message: `${hit.op.name}() is called with the mmap lock held${via}: ${reg}() takes it itself`,
        detail: `${reg}() takes the mmap lock (mmap_write_lock(), down_write(&mm->mmap_sem) before v5.8) to register: called with it held, the thread waits for itself (a deadlock, or lockdep's "possible recursive locking"). Call it after the unlock, or use the form that expects the lock held (__mmu_notifier_register(), mmu_interval_notifier_insert_locked(), mmu_notifier_get_locked()).`,
        related: [{ ...hit.lockAt, message: 'the mmap lock is taken here' }],
        noFix: 'Whether to register after the unlock or switch to the _locked form depends on what the locked section protects: decide by hand.',
      });
    }
  }
  return out;
}

function registerUnderLock(view: SubscriberView, ref: FnRef, takes: Map<string, string>): { op: CallOp; path: PathEvent[]; lockAt: { file: string; line: number; column: number } } | undefined {
  const g = view.graph(ref);
  let found: { op: CallOp; path: PathEvent[]; lockAt: { file: string; line: number; column: number } } | undefined;
  walkStates<number>(g, 0, String, () => view.tick(), (id, state, chain) => {
    let held = state;
    let cond: { op: CallOp; lockedWhenTrue: boolean } | undefined;
    for (const op of g.ops[id]) {
      if (op.k !== 'call') continue;
      if (held && takes.has(op.name) && op.name !== ref.fn.name) {
        const isMmap = (e: PathEvent): boolean => e.event === 'lock' && /mmap/.test(`${e.lock} ${e.detail}`);
        const path = endingAt(pathFromChain(ref, g, chain()), ref.file, op, `${takes.get(op.name)}() takes the mmap lock`);
        const first = path.find(isMmap);
        found = { op, path: path.map((e) => (isMmap(e) ? { ...e, lock: 'mm->mmap_lock' } : e)), lockAt: first ? { file: first.file, line: first.line, column: first.column } : { file: ref.file, line: ref.fn.line, column: 1 } };
        return undefined;
      }
      if (!mmapArg(op)) continue;
      if (MMAP_TRYLOCK.test(op.name) && op.isCondAtom) cond = { op, lockedWhenTrue: !op.condInverted };
      else if (/_killable$/.test(op.name) && op.isCondAtom) cond = { op, lockedWhenTrue: !!op.condInverted }; // 0 on success
      else if (MMAP_LOCK.test(op.name)) held = 1;
      else if (MMAP_UNLOCK.test(op.name)) held = 0;
    }
    return { next: (kind) => (cond && (kind === 'true' || kind === 'false') && (kind === 'true') === cond.lockedWhenTrue ? 1 : held) };
  });
  return found;
}
