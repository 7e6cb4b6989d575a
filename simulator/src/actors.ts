// The transition system: which actor steps are enabled in a state, and what each step does to the model.
import {
  cloneState,
  describePte,
  getPage,
  newThread,
  page,
  putPage,
  sub,
  thread,
  type SimState,
  type SubState,
  type ThreadState,
} from './model';
import { compilePath, invalidationProgram, type CompiledOp, type Op } from './replay';
import { buildSubscriberModel, isSubscriberRule } from './subscriber';
import type { ActorSpec, PathEvent, PteView, Scenario, SourcePos, SubscriberSpec } from './types';
import { changePteFallsBack, changePteRemoved, hasInvalidateRange, parseVersion, type Version } from './version';

export interface Model {
  scenario: Scenario;
  version: Version;
  programs: Record<string, CompiledOp[]>;
  ptl: string;
  /** Which locks are sleeping locks (rwsem/mutex); the rest are spinlocks. */
  sleeping: Record<string, boolean>;
  newPte: PteView;
  subs: Record<string, SubscriberSpec>;
  initial: SimState;
}

export interface Action {
  actor: string;
  choice: number;
}

export interface StepInfo {
  actor: string;
  event: string;
  change: string;
  source?: SourcePos;
  /** A thread went to sleep (waits for a sleeping lock, or a may-sleep call). */
  slept?: string;
  /** A thread made a blockable notifier call (range_start / invalidate_page). */
  blockable?: string;
  installs: { sub: string; page: string; by: string }[];
  access?: { sub: string; page: string; write: boolean };
  /** A PTL unlock or a range_end completed: I3 is checked. */
  checkpoint: boolean;
  /** True when the step is a wait (the thread blocks). */
  wait: boolean;
}

export function buildModel(scenario: Scenario, path: PathEvent[]): Model {
  if (isSubscriberRule(scenario.rule)) return buildSubscriberModel(scenario, path);
  const version = parseVersion(scenario.kernelVersion);
  const invAtEnd = hasInvalidateRange(version);
  const prog = compilePath(path, scenario.subscribers, invAtEnd);
  const programs: Record<string, CompiledOp[]> = { T0: prog.ops };
  const sleeping: Record<string, boolean> = {};
  const locks: Record<string, string | null> = {};
  locks[prog.ptl] = null;
  for (const o of prog.ops) if (o.op.k === 'lock' || o.op.k === 'unlock') locks[o.op.lock] = null;
  for (const l of Object.keys(locks)) sleeping[l] = false;
  for (const s of scenario.subscribers) {
    if (s.sleepingLock) {
      locks[s.sleepingLock] = null;
      sleeping[s.sleepingLock] = true;
    }
  }
  const newPte: PteView = { page: 'NEW', writable: scenario.pattern === 'cow' };
  const oldWritable = scenario.pattern === 'ksm';
  const threads: ThreadState[] = [];
  for (const a of scenario.actors) {
    if (a.kind === 'path') threads.push(newThread('T0', prog.heldOnEntry, prog.heldOnEntry.length));
    else if (a.kind === 'invalidation') {
      threads.push(newThread(a.id));
      programs[a.id] = invalidationProgram(scenario.subscribers, prog.ptl, invAtEnd);
    } else if (a.kind === 'fault') threads.push(newThread(a.id));
  }
  for (const l of prog.heldOnEntry) locks[l] = 'T0';
  const pinned = scenario.initialShadow ? scenario.subscribers.filter((s) => s.pins).length : 0;
  const initial: SimState = {
    threads,
    locks,
    pte: { page: 'OLD', writable: oldWritable },
    pages: [
      { id: 'NEW', refcount: 1, mapcount: 0, wasMapped: false, state: 'live', content: scenario.pattern === 'ksm' ? 'merged content (KSM page)' : 'copy of OLD' },
      { id: 'OLD', refcount: 1 + pinned, mapcount: 1, wasMapped: true, state: 'live', content: 'process data' },
    ],
    subs: scenario.subscribers.map((s) => ({
      id: s.id,
      open: [],
      seq: 0,
      shadow: scenario.initialShadow ? { page: 'OLD', writable: oldWritable } : null,
      pinned: scenario.initialShadow && s.pins ? 'OLD' : null,
    })),
    ranges: [],
    devices: scenario.actors.filter((a) => a.kind === 'device').map((a) => ({ id: a.id, left: 1 })),
  };
  const subs: Record<string, SubscriberSpec> = {};
  for (const s of scenario.subscribers) subs[s.id] = s;
  return { scenario, version, programs, ptl: prog.ptl, sleeping, newPte, subs, initial };
}

/** The lock an operation needs before it can run (a sleeping subscriber lock for callbacks). */
function lockNeeded(m: Model, op: Op): string | null {
  if (op.k === 'lock') return op.lock;
  if (op.k === 'cb_start' || op.k === 'cb_end' || op.k === 'cb_page') return m.subs[op.sub]?.sleepingLock ?? null;
  if (op.k === 'await' || op.k === 'seq_begin') return op.res;
  return null;
}

/** Lock step of a thread: 'run' (free), 'wait' (held; starts waiting), or null (already waiting). */
function lockState(s: SimState, t: ThreadState, lock: string): 'run' | 'wait' | null {
  const holder = s.locks[lock] ?? null;
  if (holder === null) return 'run';
  return t.blockedOn === lock ? null : 'wait';
}

function faultNeed(m: Model, s: SimState, t: ThreadState, spec: SubscriberSpec): 'run' | 'wait' | null {
  if (spec.kind === 'sva') return sub(s, spec.id).shadow === null && s.pte !== null ? 'run' : null;
  if (t.pc === 0) return sub(s, spec.id).shadow === null ? 'run' : null;
  if (t.pc === 1 && spec.sleepingLock) return lockState(s, t, spec.sleepingLock);
  if (t.pc === 2) return lockState(s, t, m.ptl);
  return 'run';
}

export function enabledActions(m: Model, s: SimState): Action[] {
  const out: Action[] = [];
  for (const a of m.scenario.actors) {
    if (a.kind === 'path' || a.kind === 'invalidation' || a.kind === 'thread') {
      const t = thread(s, a.id);
      const ops = m.programs[a.id] ?? [];
      const o = ops[t.pc];
      if (!o) continue;
      const l = lockNeeded(m, o.op);
      if (l === null || lockState(s, t, l) !== null) out.push({ actor: a.id, choice: 0 });
    } else if (a.kind === 'fault') {
      const spec = m.subs[a.subscriber ?? ''];
      if (spec && faultNeed(m, s, thread(s, a.id), spec) !== null) out.push({ actor: a.id, choice: 0 });
    } else if (a.kind === 'device') {
      const d = s.devices.find((x) => x.id === a.id);
      const sh = sub(s, a.subscriber ?? '').shadow;
      if (!d || d.left <= 0 || !sh) continue;
      out.push({ actor: a.id, choice: 0 });
      if (sh.writable) out.push({ actor: a.id, choice: 1 });
    } else {
      s.pages.forEach((p, i) => {
        if (p.state === 'freed') out.push({ actor: a.id, choice: i });
      });
    }
  }
  return out;
}

function info(actor: string, event: string, change: string, source?: SourcePos): StepInfo {
  const i: StepInfo = { actor, event, change, installs: [], checkpoint: false, wait: false };
  if (source) i.source = source;
  return i;
}

/** Drops a subscriber's shadow translation (and its pin). */
const VERB: Record<string, string> = { zap: 'zaps', drop: 'drops', flush: 'flushes' };

function zap(s: SimState, u: SubState, why: string, via = ''): string {
  if (!u.shadow) return `${u.id}: ${via}no shadow PTE to ${why}`;
  const was = describePte(u.shadow);
  u.shadow = null;
  let extra = '';
  if (u.pinned) {
    extra = `; unpins: ${putPage(s, u.pinned)}`;
    u.pinned = null;
  }
  return `${u.id}: ${via}${VERB[why] ?? why} its shadow PTE (was ${was})${extra}`;
}

function acquire(s: SimState, t: ThreadState, lock: string, m: Model): void {
  s.locks[lock] = t.id;
  t.held.push(lock);
  t.blockedOn = null;
  if (!m.sleeping[lock]) t.preempt += 1;
}

function release(s: SimState, t: ThreadState, lock: string, m: Model): boolean {
  const i = t.held.lastIndexOf(lock);
  if (i < 0 || s.locks[lock] !== t.id) return false;
  t.held.splice(i, 1);
  s.locks[lock] = null;
  if (!m.sleeping[lock]) t.preempt = Math.max(0, t.preempt - 1);
  return true;
}

function waitStep(s: SimState, t: ThreadState, lock: string, m: Model, i: StepInfo, what: string): StepInfo {
  t.blockedOn = lock;
  const holder = s.locks[lock] ?? '?';
  i.wait = true;
  if (m.sleeping[lock]) {
    i.slept = t.id;
    i.change = `${t.id} ${what}: ${lock} is held by ${holder}, ${t.id} SLEEPS waiting for it (preempt count ${t.preempt})`;
  } else {
    i.change = `${t.id} ${what}: ${lock} is held by ${holder}, ${t.id} SPINS waiting for it`;
  }
  i.event = `${i.event} (waits)`;
  return i;
}

function changePte(m: Model, s: SimState, t: ThreadState): { text: string; installs: StepInfo['installs'] } {
  const installs: StepInfo['installs'] = [];
  if (changePteRemoved(m.version)) return { text: 'no change_pte callback exists in this kernel version', installs };
  const parts: string[] = [];
  for (const spec of m.scenario.subscribers) {
    const u = sub(s, spec.id);
    const count = u.open.length;
    if (!spec.hasChangePte) {
      if (changePteFallsBack(m.version)) parts.push(`fallback invalidate_page: ${zap(s, u, 'drop')}`);
      else parts.push(`${u.id} has no change_pte: it is NOT told (its shadow PTE stays ${describePte(u.shadow)})`);
      continue;
    }
    if (spec.guardCountOne && count !== 1) {
      parts.push(`${u.id}.change_pte: ${count} ranges open, the guard (count must be 1) ignores it`);
      continue;
    }
    let mode = spec.kvmMode ?? 'update-existing';
    let prefix = '';
    if (mode === 'skip-if-count-0') {
      if (count === 0) {
        parts.push(`${u.id}.change_pte: in-progress count is 0, returns early (relies on the range bracket)`);
        continue;
      }
      mode = 'update-existing';
    }
    if (mode === 'warn-only') {
      if (count === 0) prefix = 'WARN_ON_ONCE(no invalidation in progress); ';
      mode = 'update-existing';
    }
    if (mode === 'install') {
      u.shadow = { ...m.newPte };
      installs.push({ sub: u.id, page: m.newPte.page, by: t.id });
      parts.push(`${prefix}${u.id}.change_pte (count ${count}) INSTALLS shadow PTE -> ${describePte(m.newPte)}`);
    } else if (u.shadow) {
      u.shadow = { ...m.newPte };
      installs.push({ sub: u.id, page: m.newPte.page, by: t.id });
      parts.push(`${prefix}${u.id}.change_pte (count ${count}) updates its shadow PTE -> ${describePte(m.newPte)}`);
    } else parts.push(`${prefix}${u.id}.change_pte (count ${count}): no shadow PTE to update`);
  }
  return { text: parts.join('; '), installs };
}

function clearPte(m: Model, s: SimState, notify: boolean): string {
  let text: string;
  if (s.pte) {
    const p = page(s, s.pte.page);
    if (p) p.mapcount = Math.max(0, p.mapcount - 1);
    text = `primary PTE ${describePte(s.pte)} -> none (CPU TLB flushed)`;
    s.pte = null;
  } else text = 'primary PTE already none';
  if (notify) text += `; ${svaFlush(m, s)}`;
  return text;
}

function svaFlush(m: Model, s: SimState): string {
  if (changePteFallsBack(m.version)) return `invalidate_page: ${s.subs.map((u) => zap(s, u, 'drop')).join('; ')}`;
  const svas = m.scenario.subscribers.filter((x) => x.kind === 'sva');
  if (!hasInvalidateRange(m.version) || svas.length === 0) return 'no invalidate_range subscriber';
  return svas.map((x) => zap(s, sub(s, x.id), 'flush', 'invalidate_range ')).join('; ');
}

function runOp(m: Model, s: SimState, t: ThreadState, o: CompiledOp): StepInfo {
  const i = info(t.id, o.event, '', o.source);
  const op = o.op;
  const l = lockNeeded(m, op);
  if (l !== null && (s.locks[l] ?? null) !== null) {
    if (op.k === 'await' || op.k === 'seq_begin') {
      const w = waitStep(s, t, l, m, i, op.k === 'await' ? op.text : 'mmu_interval_read_begin()');
      if (op.k === 'await') w.change = `${t.id} ${op.waitText.replace('{holder}', s.locks[l] ?? '?')}`;
      else w.change = `${t.id} mmu_interval_read_begin(): an invalidation of the notifier is in progress (${s.locks[l] ?? '?'}), ${t.id} SLEEPS until it ends`;
      return w;
    }
    return waitStep(s, t, l, m, i, op.k === 'lock' ? 'takes the lock' : 'callback takes its lock');
  }
  t.blockedOn = null;
  t.pc += 1;
  if (o.jump !== undefined) t.pc = o.jump;
  if (op.k !== 'lock' && op.k !== 'unlock' && op.k !== 'nop' && op.k !== 'sleep' && isSubscriberOp(op)) {
    subscriberOp(m, s, t, op, i);
    return i;
  }
  switch (op.k) {
    case 'nop':
      i.change = op.text;
      break;
    case 'lock': {
      const before = t.preempt;
      acquire(s, t, op.lock, m);
      if (m.sleeping[op.lock]) {
        // mutex_lock()/down_read() call might_sleep() even when the lock is free.
        i.slept = t.id;
        i.change = `${t.id} takes the sleeping lock ${op.lock} (it may sleep: might_sleep(); preempt count ${t.preempt}${t.nonBlock > 0 ? `, non-block depth ${t.nonBlock}` : ''})`;
      } else i.change = `${t.id} takes spinlock ${op.lock}: preempt count ${before}->${t.preempt} (atomic context)`;
      break;
    }
    case 'unlock': {
      const before = t.preempt;
      i.change = release(s, t, op.lock, m)
        ? `${t.id} releases ${op.lock}${m.sleeping[op.lock] ? '' : `: preempt count ${before}->${t.preempt}`}`
        : `${t.id} releases ${op.lock}, which it does not hold (no effect)`;
      i.checkpoint = true;
      break;
    }
    case 'range_open':
      s.ranges.push(t.id);
      if (op.blockable) i.blockable = t.id;
      i.change = `${t.id} opens an invalidation range on the address (${op.blockable ? 'blockable: the callbacks may sleep' : 'non-blocking'})`;
      break;
    case 'cb_start': {
      const u = sub(s, op.sub);
      u.open.push(t.id);
      i.change = `${u.id}.invalidate_range_start: count ${u.open.length - 1}->${u.open.length}; ${zap(s, u, 'zap')}`;
      break;
    }
    case 'cb_end': {
      const u = sub(s, op.sub);
      if (m.subs[op.sub]?.kind === 'sva') {
        i.change = zap(s, u, 'flush', 'invalidate_range ');
        break;
      }
      const k = u.open.lastIndexOf(t.id);
      const before = u.open.length;
      if (k >= 0) u.open.splice(k, 1);
      else if (u.open.length > 0) u.open.splice(u.open.length - 1, 1);
      u.seq += 1;
      i.change = `${u.id}.invalidate_range_end: count ${before}->${u.open.length}, seq ${u.seq - 1}->${u.seq}${u.open.length === 0 ? ' (faults may map again)' : ''}`;
      break;
    }
    case 'range_close': {
      const k = s.ranges.lastIndexOf(t.id);
      if (k >= 0) s.ranges.splice(k, 1);
      i.checkpoint = true;
      i.change = `${t.id}'s range is closed (${s.ranges.length} range(s) still open)`;
      break;
    }
    case 'clear_pte':
      i.change = clearPte(m, s, op.notify);
      break;
    case 'change_pte': {
      const cleared = op.clearFirst ? `${clearPte(m, s, false)}; ` : '';
      const r = changePte(m, s, t);
      i.change = cleared + r.text;
      i.installs = r.installs;
      break;
    }
    case 'set_pte': {
      const p = page(s, m.newPte.page);
      const prev = s.pte;
      if (!prev || prev.page !== m.newPte.page) {
        if (p) {
          p.mapcount += 1;
          p.wasMapped = true;
        }
        if (p && m.scenario.pattern === 'ksm') p.refcount += 1;
        const q = prev ? page(s, prev.page) : undefined;
        if (q) q.mapcount = Math.max(0, q.mapcount - 1);
      }
      s.pte = { ...m.newPte };
      i.change = `primary PTE -> ${describePte(m.newPte)}`;
      break;
    }
    case 'put_old':
      i.change = `page_remove_rmap + ${putPage(s, 'OLD')}`;
      break;
    case 'inv_page':
      if (op.blockable) i.blockable = t.id;
      i.change = `${t.id} calls invalidate_page (${op.blockable ? 'blockable: the callbacks may sleep' : 'cannot sleep'})`;
      break;
    case 'cb_page':
      i.change = zap(s, sub(s, op.sub), 'drop', 'invalidate_page ');
      break;
    case 'inv_range':
      i.change = svaFlush(m, s);
      break;
    case 'sleep':
      i.slept = t.id;
      i.change = `${t.id} calls ${op.text}, which may sleep (preempt count ${t.preempt})`;
      break;
    case 'blockable_call':
      i.blockable = t.id;
      i.change = `${t.id} calls ${op.name}, a notifier call that may sleep`;
      break;
    case 'zap_pte':
      t.page = s.pte ? s.pte.page : null;
      i.change = clearPte(m, s, true);
      break;
    case 'put_zapped':
      i.change = t.page ? putPage(s, t.page) : 'no page was unmapped';
      break;
  }
  return i;
}

/** The operations of the subscriber-side scenarios (subscriber.ts). */
function isSubscriberOp(op: Op): boolean {
  return ['nonblock', 'trylock', 'await', 'drop', 'seq_begin', 'seq_fault', 'seq_retry', 'commit', 'set_seq', 'dev_zap', 'sub_end'].includes(op.k);
}

function subscriberOp(m: Model, s: SimState, t: ThreadState, op: Op, i: StepInfo): void {
  switch (op.k) {
    case 'nonblock': {
      const before = t.nonBlock;
      t.nonBlock = Math.max(0, t.nonBlock + op.delta);
      const released = (op.release ?? []).filter((l) => release(s, t, l, m));
      i.change = `${op.text}: ${t.id}'s non-block depth ${before}->${t.nonBlock}${released.length > 0 ? `; releases ${released.join(', ')}` : ''}`;
      return;
    }
    case 'trylock': {
      if ((s.locks[op.lock] ?? null) !== null) {
        i.change = `${t.id} tries ${op.lock}: held by ${s.locks[op.lock] ?? '?'}, the trylock FAILS without sleeping`;
        t.pc = op.failPc;
        return;
      }
      const before = t.preempt;
      acquire(s, t, op.lock, m);
      i.change = `${t.id} tries ${op.lock}: free, taken without sleeping${m.sleeping[op.lock] ? '' : ` (preempt count ${before}->${t.preempt})`}`;
      return;
    }
    case 'await':
      i.slept = t.id;
      i.change = `${t.id} ${op.text}`;
      return;
    case 'drop': {
      if (s.locks[op.res] === t.id) release(s, t, op.res, m);
      i.change = `${t.id} ${op.text}`;
      return;
    }
    case 'seq_begin': {
      const u = sub(s, op.sub);
      t.seq = u.seq;
      t.page = null;
      i.slept = t.id;
      i.change = `${t.id}: seq = mmu_interval_read_begin() = ${u.seq} (no invalidation of the notifier in progress)`;
      return;
    }
    case 'seq_fault':
      if (s.pte) {
        t.page = s.pte.page;
        t.writable = s.pte.writable;
        i.change = `${t.id} faults the range in: the CPU page table maps ${describePte(s.pte)}; ${t.id} takes its pfn (no reference: the sequence is what keeps it valid)`;
      } else {
        t.page = null;
        i.change = `${t.id} faults the range in: the address is no longer mapped (-EFAULT): nothing to map`;
      }
      return;
    case 'seq_retry': {
      const u = sub(s, op.sub);
      const moved = u.seq !== t.seq;
      if (!moved) {
        i.change = `mmu_interval_read_retry(mni, ${t.seq}): the sequence is still ${u.seq}, no retry`;
        return;
      }
      if (op.ignore) {
        i.change = `mmu_interval_read_retry(mni, ${t.seq}) returns TRUE (the sequence moved to ${u.seq}: an invalidation ran), but the result is IGNORED`;
        return;
      }
      const released = op.release.filter((l) => release(s, t, l, m));
      t.pc = op.restartPc;
      t.page = null;
      i.event = `${i.event} -> retry`;
      i.change = `mmu_interval_read_retry(mni, ${t.seq}) returns true (sequence ${t.seq}->${u.seq}): ${released.length > 0 ? `${t.id} releases ${released.join(', ')} and ` : ''}starts again`;
      return;
    }
    case 'commit': {
      const u = sub(s, op.sub);
      if (t.page === null) {
        i.change = `${t.id} programs the device: nothing to map`;
        return;
      }
      u.shadow = { page: t.page, writable: t.writable };
      i.installs.push({ sub: u.id, page: t.page, by: t.id });
      // The device uses the new translation from now on: I3 is checked.
      i.checkpoint = true;
      const p = page(s, t.page);
      const state = p && p.state !== 'live' ? ` (${t.page} is ${p.state.toUpperCase()})` : '';
      i.change = `${t.id} programs the device page table: ${u.id} shadow PTE -> ${describePte(u.shadow)}${state}`;
      return;
    }
    case 'set_seq': {
      const u = sub(s, op.sub);
      u.seq += 1;
      if ((s.locks[op.res] ?? null) === null) {
        s.locks[op.res] = t.id;
        t.held.push(op.res);
      }
      i.change = `mmu_interval_set_seq(mni, cur_seq): ${u.id} seq ${u.seq - 1}->${u.seq} (a mapping path that read ${u.seq - 1} will retry; read_begin waits until the invalidation ends)`;
      return;
    }
    case 'dev_zap': {
      const u = sub(s, op.sub);
      if (!u.open.includes(t.id)) u.open.push(t.id);
      i.change = zap(s, u, 'zap');
      return;
    }
    case 'sub_end': {
      const u = sub(s, op.sub);
      const k = u.open.lastIndexOf(t.id);
      if (k >= 0) u.open.splice(k, 1);
      if (s.locks[op.res] === t.id) release(s, t, op.res, m);
      const r = s.ranges.lastIndexOf(t.id);
      if (r >= 0) s.ranges.splice(r, 1);
      i.checkpoint = true;
      i.change = `${t.id}'s invalidation ends (${s.ranges.length} range(s) still open; ${u.id} may map again)`;
      return;
    }
    default:
      i.change = 'no state change';
  }
}

function faultStep(m: Model, s: SimState, t: ThreadState, a: ActorSpec, spec: SubscriberSpec): StepInfo {
  const u = sub(s, spec.id);
  const i = info(a.id, 'fault', '');
  if (spec.kind === 'sva') {
    u.shadow = s.pte ? { ...s.pte } : null;
    if (s.pte) i.installs.push({ sub: u.id, page: s.pte.page, by: t.id });
    i.event = 'IOTLB fill';
    i.change = `the IOMMU walks the CPU page table: ${u.id} shadow PTE -> ${describePte(u.shadow)}`;
    return i;
  }
  const retry = (why: string): void => {
    if (spec.sleepingLock) release(s, t, spec.sleepingLock, m);
    t.pc = 0;
    t.seq = -1;
    t.page = null;
    i.event = 'fault: retry';
    i.change = `${why}: the fault RETRIES`;
  };
  switch (t.pc) {
    case 0:
      t.seq = u.seq;
      t.pc = spec.sleepingLock ? 1 : 2;
      i.event = 'fault: read seq';
      i.change = `${u.id} fault starts: reads seq=${u.seq}`;
      return i;
    case 1: {
      const l = spec.sleepingLock ?? '';
      i.event = `fault: take ${l}`;
      if ((s.locks[l] ?? null) !== null) return waitStep(s, t, l, m, i, 'fault takes its lock');
      acquire(s, t, l, m);
      t.pc = 2;
      i.change = `${t.id} takes ${l} (held while it walks the page table)`;
      return i;
    }
    case 2: {
      i.event = `fault: walk page table (${m.ptl})`;
      if ((s.locks[m.ptl] ?? null) !== null) return waitStep(s, t, m.ptl, m, i, 'fault walks the page table');
      t.blockedOn = null;
      if (!s.pte) {
        retry('the primary PTE is none');
        return i;
      }
      t.page = s.pte.page;
      t.writable = s.pte.writable;
      t.pc = 3;
      i.change = `under ${m.ptl}: the primary PTE maps ${describePte(s.pte)} (get page ${s.pte.page})`;
      return i;
    }
    default: {
      const count = u.open.length;
      if (count > 0 || u.seq !== t.seq) {
        retry(`${u.id} lock: count=${count}, seq ${t.seq}->${u.seq}`);
        i.event = 'fault: check -> retry';
        return i;
      }
      const pg = t.page ?? 'NEW';
      if (u.pinned) putPage(s, u.pinned);
      u.shadow = { page: pg, writable: t.writable };
      u.pinned = null;
      if (spec.pins) {
        getPage(s, pg);
        u.pinned = pg;
      }
      i.installs.push({ sub: u.id, page: pg, by: t.id });
      if (spec.sleepingLock) release(s, t, spec.sleepingLock, m);
      t.pc = 0;
      t.seq = -1;
      t.page = null;
      i.event = 'fault: check -> install';
      i.change = `${u.id} lock: count=0, seq unchanged: installs shadow PTE -> ${describePte(u.shadow)}${spec.pins ? ` (pins ${pg})` : ''}`;
      return i;
    }
  }
}

export function applyAction(m: Model, prev: SimState, a: Action): { state: SimState; info: StepInfo } {
  const s = cloneState(prev);
  const spec = m.scenario.actors.find((x) => x.id === a.actor);
  if (!spec) throw new Error(`unknown actor ${a.actor}`);
  if (spec.kind === 'path' || spec.kind === 'invalidation' || spec.kind === 'thread') {
    const t = thread(s, spec.id);
    const o = (m.programs[spec.id] ?? [])[t.pc];
    if (!o) throw new Error(`actor ${spec.id} has finished`);
    return { state: s, info: runOp(m, s, t, o) };
  }
  if (spec.kind === 'fault') {
    const sp = m.subs[spec.subscriber ?? ''];
    if (!sp) throw new Error(`no subscriber for ${spec.id}`);
    return { state: s, info: faultStep(m, s, thread(s, spec.id), spec, sp) };
  }
  if (spec.kind === 'device') {
    const u = sub(s, spec.subscriber ?? '');
    const d = s.devices.find((x) => x.id === spec.id);
    const sh = u.shadow;
    if (!d || !sh) throw new Error(`device ${spec.id} cannot access`);
    d.left -= 1;
    const write = a.choice === 1;
    const p = page(s, sh.page);
    const who = m.subs[u.id]?.kind === 'kvm' ? 'guest' : 'device';
    const i = info(spec.id, `${who} ${write ? 'write' : 'read'}`, '');
    i.access = { sub: u.id, page: sh.page, write };
    const whose = p?.state === 'reused' ? "another process's memory" : p?.state === 'freed' ? 'a freed page' : 'the page';
    if (write && p) p.content = p.state === 'reused' ? "CORRUPTED: another process's data overwritten by the device" : 'written by the device';
    i.change = `${write ? 'writes' : 'reads'} through ${u.id}'s shadow PTE -> ${sh.page}: ${whose}${p ? ` (now: ${p.content})` : ''}`;
    return { state: s, info: i };
  }
  const p = s.pages[a.choice];
  if (!p || p.state !== 'freed') throw new Error('allocator has nothing to reuse');
  p.state = 'reused';
  p.refcount = 1;
  p.content = "another process's data";
  return { state: s, info: info(spec.id, 'page reused', `the allocator hands ${p.id} to another process, which fills it with its own data`) };
}

export function pathDone(m: Model, s: SimState): boolean {
  return thread(s, 'T0').pc >= (m.programs.T0 ?? []).length;
}

/** The replayed path and the other invalidation have both run to their end. */
export function threadsDone(m: Model, s: SimState): boolean {
  return Object.keys(m.programs).every((id) => thread(s, id).pc >= (m.programs[id] ?? []).length);
}
