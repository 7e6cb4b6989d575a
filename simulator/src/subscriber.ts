// Subscriber-side rules (drivers implementing notifiers): scenario, programs of the actors, and the fixed path.
// nonblocking-invalidate-sleeps: the OOM reaper runs the callback non-blockably while a driver thread holding what the
// callback waits for is itself waiting for memory; atomic-callback-sleeps: the callback runs under the PTL;
// interval-sequence: the read_begin/retry/set_seq protocol of interval notifiers; register-under-mmap-lock: the
// registration takes the mmap lock the caller already holds. Reads `variant` and the path events listed in hazards.md.
import type { Model } from './actors';
import type { SimState, ThreadState } from './model';
import { newThread } from './model';
import type { CompiledOp, Op } from './replay';
import type { ActorSpec, FindingInput, PathEvent, Scenario, SimulateOptions, SourcePos, SubscriberSpec } from './types';
import { atLeast, parseVersion, versionText, type Version } from './version';

export const SUBSCRIBER_RULES = ['nonblocking-invalidate-sleeps', 'atomic-callback-sleeps', 'interval-sequence', 'register-under-mmap-lock'] as const;

export function isSubscriberRule(rule: string): boolean {
  return (SUBSCRIBER_RULES as readonly string[]).includes(rule);
}

const INTERVAL_VARIANTS = ['no-retry', 'retry-ignored', 'retry-unlocked', 'no-set-seq'];
const MEMORY = 'free memory';
const PTL = 'ptl';
const GENERIC_LOCK = 'driver lock';
const IN_PROGRESS = 'mni invalidation in progress';

const text = (e: PathEvent | undefined): string => `${e?.callee ?? ''} ${e?.detail ?? ''}`;
const str = (x: unknown): string => (typeof x === 'string' ? x : '');

/** The variant replayed: the finding's when it is one of the rule's, else the rule's generic one. */
export function resolveVariant(f: FindingInput): string {
  const v = str(f.variant);
  switch (f.rule) {
    case 'interval-sequence': {
      if (INTERVAL_VARIANTS.includes(v)) return v;
      const begins = f.path.some((e) => e.event === 'call' && /mmu_interval_read_begin/.test(text(e)));
      const entry = f.path.find((e) => e.event === 'entry');
      return !begins && /invalidate/i.test(`${text(entry)} ${f.function ?? ''}`) ? 'no-set-seq' : 'no-retry';
    }
    case 'register-under-mmap-lock':
      return 'register-locked';
    default:
      return 'sleeps';
  }
}

function lockName(e: PathEvent | undefined, fallback = GENERIC_LOCK): string {
  const n = str(e?.lock ?? e?.detail).trim().replace(/^&\s*/, '');
  return n === '' ? fallback : n;
}

/** Is the lock a sleeping one (mutex, rwsem, the mmap lock) rather than a spinlock? */
function sleepingLock(name: string, how: string): boolean {
  if (/mmap_(read|write)_lock|mutex|down_(read|write)|rwsem|_sem\b|lock_page/.test(how)) return true;
  if (/spin|read_lock|write_lock|rcu|local_irq|preempt_disable/.test(how)) return false;
  return /mutex|sem\b|_sem|rwsem|mmap_lock|mmap_sem|umem/.test(name);
}

type SleepKind = { kind: 'lock'; lock: string } | { kind: 'alloc' } | { kind: 'yield'; drops: string | null } | { kind: 'wait'; what: string };

function sleepKind(e: PathEvent): SleepKind {
  const t = text(e);
  const lock = str(e.lock).trim().replace(/^&\s*/, '');
  if (/cond_resched_(rw)?lock/.test(t)) return { kind: 'yield', drops: lock === '' ? null : lock };
  if (/cond_resched|\bschedule\b|might_sleep|msleep|usleep|ssleep|might_fault/.test(t)) return { kind: 'yield', drops: null };
  if (/alloc|GFP_KERNEL|get_free_page/.test(t) && !/GFP_ATOMIC|GFP_NOWAIT/.test(t)) return { kind: 'alloc' };
  if (lock !== '') return { kind: 'lock', lock };
  if (/mutex_lock|down_(read|write)|mmap_(read|write)_lock/.test(t)) return { kind: 'lock', lock: GENERIC_LOCK };
  if (/lock_page/.test(t)) return { kind: 'lock', lock: 'page lock' };
  const what = str(e.callee).trim() || str(e.detail).trim() || 'a wait';
  return { kind: 'wait', what };
}

/** The completion (fence, work item) a `wait` sleep waits for. */
const completionOf = (what: string): string => `completion awaited by ${what}`;

function pos(e: PathEvent | undefined): SourcePos | undefined {
  if (!e) return undefined;
  return { file: str(e.file), line: Number(e.line) || 0, column: Number(e.column) || 0 };
}

class Builder {
  ops: CompiledOp[] = [];
  add(op: Op, event: string, e?: PathEvent): CompiledOp {
    const src = pos(e);
    const o: CompiledOp = src ? { op, event, source: src } : { op, event };
    this.ops.push(o);
    return o;
  }
  get pc(): number {
    return this.ops.length;
  }
}

function callbackName(path: PathEvent[], f: { function?: string }): string {
  const entry = path.find((e) => e.event === 'entry');
  const m = /callback\s+(\w+)/.exec(str(entry?.detail));
  return m?.[1] ?? (str(f.function) || str(entry?.callee) || 'the callback');
}

/** Which atomic hook calls the callback (from the entry's detail). */
function atomicHook(path: PathEvent[]): { hook: string; caller: string } {
  const t = text(path.find((e) => e.event === 'entry'));
  if (/change_pte/.test(t)) return { hook: 'change_pte', caller: 'set_pte_at_notify() (KSM merge / COW)' };
  if (/secondary_tlbs/.test(t)) return { hook: 'arch_invalidate_secondary_tlbs', caller: 'ptep_clear_flush_notify() (rmap walk)' };
  return { hook: 'invalidate_range', caller: 'ptep_clear_flush_notify() (rmap walk)' };
}

/**
 * A sleeping-callback witness without a sleep event (odd engine output) gets the generic one: the callback takes the
 * driver's sleeping lock. Other rules synthesize their missing events when their programs are compiled.
 */
export function normalizeSubscriberPath(rule: string, path: PathEvent[]): PathEvent[] {
  if (rule !== 'nonblocking-invalidate-sleeps' && rule !== 'atomic-callback-sleeps') return path;
  if (path.some((e) => e.event === 'sleep')) return path;
  const last = path[path.length - 1];
  return [...path, at(last, 'sleep', { callee: 'mutex_lock', lock: GENERIC_LOCK, detail: 'mutex_lock (assumed: the witness path names no sleeping call)' })];
}

// ----- Scenario -----

export function buildSubscriberScenario(f: FindingInput, opts: SimulateOptions = {}): Scenario {
  const v = parseVersion(opts.kernelVersion);
  const variant = resolveVariant(f);
  const cb = callbackName(f.path, f);
  const actors: ActorSpec[] = [];
  const subscribers: SubscriberSpec[] = [];
  const notes: string[] = [];
  let label = '';
  const sleep = lastSleep(f.path);
  const kind = sleep ? sleepKind(sleep) : ({ kind: 'lock', lock: GENERIC_LOCK } as SleepKind);
  const holderLock = kind.kind === 'lock' ? kind.lock : kind.kind === 'wait' ? completionOf(kind.what) : GENERIC_LOCK;
  switch (f.rule) {
    case 'nonblocking-invalidate-sleeps':
      label = 'OOM reaper vs. non-blocking invalidate';
      subscribers.push({ id: 'drv', kind: 'device', label: `driver notifier (${cb})`, hasChangePte: false, pins: false });
      actors.push({ id: 'T0', kind: 'path', label: `T0: OOM reaper (oom_reap_task_mm) -> ${cb}, the flagged path (non-blocking UNMAP range)` });
      actors.push({ id: 'W', kind: 'thread', label: `W: driver thread holding ${holderLock}, allocating memory (waits for the OOM reaper)`, holds: holderLock });
      if (!atLeast(v, 4, 19)) notes.push(`v${versionText(v)}: before v4.19 the OOM reaper skipped mms with notifiers; the flagged callback is reached non-blockably from v4.19 (93065ac753e4).`);
      else if (!atLeast(v, 5, 4)) notes.push(`v${versionText(v)}: the OOM reaper invalidates with blockable=false; no run-time warning yet (non_block_start() came in about v5.4): the reaper just stalls.`);
      else notes.push(`v${versionText(v)}: the OOM reaper's callbacks run between non_block_start() and non_block_end(): might_sleep() warns, but only when the reaper reaches this path.`);
      break;
    case 'atomic-callback-sleeps': {
      const { hook, caller } = atomicHook(f.path);
      label = `atomic ${hook} callback under the page-table lock`;
      subscribers.push({ id: 'drv', kind: 'device', label: `driver notifier (${cb}, ${/^[aeiou]/.test(hook) ? 'an' : 'a'} ${hook} callback)`, hasChangePte: hook === 'change_pte', pins: false });
      actors.push({ id: 'T0', kind: 'path', label: `T0: ${caller} holds ${PTL} and calls ${hook} -> ${cb}, the flagged path` });
      actors.push({ id: 'T1', kind: 'thread', label: `T1: driver thread holding ${holderLock}, faults on the same page (needs ${PTL})`, holds: holderLock });
      notes.push(`${hook} runs under the page-table lock and must not sleep (change_pte until v6.9, invalidate_range v4.0 to v6.5, arch_invalidate_secondary_tlbs from v6.6).`);
      break;
    }
    case 'interval-sequence': {
      const lock = intervalLock(f.path, variant);
      subscribers.push({ id: 'mni', kind: 'device', label: `interval notifier (mmu_interval_notifier) of ${variant === 'no-set-seq' ? cb : 'the driver'}, device page table under ${lock}`, hasChangePte: false, pins: false });
      if (variant === 'no-set-seq') {
        label = 'interval notifier invalidate without mmu_interval_set_seq';
        actors.push({ id: 'T0', kind: 'path', label: `T0: munmap-like invalidation -> ${cb}, the flagged path` });
        actors.push({ id: 'T1', kind: 'thread', label: `T1: device fault, the hmm.rst mapping loop (read_begin, fault, ${lock}, read_retry, program)` });
      } else {
        label = `interval notifier mapping path (${variant})`;
        actors.push({ id: 'T2', kind: 'invalidation', label: `T2: munmap-like invalidation -> mni.invalidate (${lock}, set_seq, zap)` });
        actors.push({ id: 'T0', kind: 'path', label: `T0: device fault, the flagged mapping path${f.function ? ` (${f.function})` : ''}` });
      }
      actors.push({ id: 'DEV', kind: 'device', label: "DEV: device access through mni's shadow PTE", subscriber: 'mni' });
      actors.push({ id: 'ALLOC', kind: 'allocator', label: 'ALLOC: page allocator (hands freed pages to another process)' });
      if (!atLeast(v, 5, 5)) notes.push(`v${versionText(v)}: interval notifiers exist from v5.5 (Documentation/mm/hmm.rst); replayed with their semantics.`);
      else notes.push('hmm.rst: the mapping path retries under the driver lock when mmu_interval_read_retry() says so; invalidate sets the sequence under the same lock.');
      break;
    }
    default:
      label = 'notifier registration under the mmap lock';
      subscribers.push({ id: 'drv', kind: 'device', label: 'the notifier being registered', hasChangePte: false, pins: false });
      actors.push({ id: 'T0', kind: 'path', label: `T0: the flagged path${f.function ? ` (${f.function})` : ''}, registering a notifier` });
      notes.push('mmu_notifier_register() and mmu_interval_notifier_insert() take the mmap lock themselves; __mmu_notifier_register() and mmu_interval_notifier_insert_locked() expect it held for write.');
  }
  return {
    rule: String(f.rule),
    kernelVersion: versionText(v),
    pattern: 'ksm',
    patternLabel: label,
    subscribers,
    actors,
    initialShadow: false,
    bound: Math.max(1, Math.floor(opts.bound ?? 60)),
    maxStates: Math.max(1, Math.floor(opts.maxStates ?? 200000)),
    notes,
    variant,
  };
}

/** The last sleep event of the path (the flagged one). */
function lastSleep(path: PathEvent[]): PathEvent | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (path[i]?.event === 'sleep') return path[i];
  return undefined;
}

const isCall = (e: PathEvent, re: RegExp): boolean => e.event === 'call' && re.test(text(e));
const READ_BEGIN = /mmu_interval_read_begin/;
const READ_RETRY = /mmu_interval_read_retry|mmu_interval_check_retry/;
const SET_SEQ = /mmu_interval_set_seq/;
const FAULT = /hmm_range_fault|get_user_pages|pin_user_pages|_fault\b|get_pages|follow_page|hmm_vma_fault/;
const REGISTER = /mmu_notifier_register|mmu_interval_notifier_insert|mmu_notifier_get/;
const REGISTER_LOCKED = /__mmu_notifier_register|mmu_interval_notifier_insert_locked|mmu_notifier_get_locked/;

/** The driver lock of an interval notifier: the first lock the path takes (after read_begin on a mapping path). */
function intervalLock(path: PathEvent[], variant: string): string {
  const rb = variant === 'no-set-seq' ? -1 : path.findIndex((e) => isCall(e, READ_BEGIN));
  const after = path.find((e, i) => i > rb && e.event === 'lock');
  const any = after ?? path.find((e) => e.event === 'lock');
  return any ? lockName(any) : GENERIC_LOCK;
}

// ----- Programs -----

interface Compiled {
  programs: Record<string, CompiledOp[]>;
  sleeping: Record<string, boolean>;
  /** Resources and locks held when the exploration starts: lock -> holder. */
  initiallyHeld: Record<string, string>;
}

/** Compiles the callback's own events (entry, branch, call, lock/unlock, sleep, return) into ops. */
function compileCallback(
  b: Builder,
  path: PathEvent[],
  ctx: { sleeping: Record<string, boolean>; eagain: CompiledOp[]; nonBlocking: boolean; completion?: boolean },
): string[] {
  const held: string[] = [];
  for (const e of path) {
    const ev = str(e.event);
    switch (ev) {
      case 'lock': {
        const l = lockName(e);
        const how = str(e.detail) + str(e.callee);
        if (!(l in ctx.sleeping)) ctx.sleeping[l] = sleepingLock(l, how);
        if (/trylock/.test(how)) {
          // The failure jumps to the -EAGAIN return (patched once its index is known).
          const o = b.add({ k: 'trylock', lock: l, failPc: -1 }, `${/\w*trylock\w*/.exec(how)?.[0] ?? 'trylock'}(${l})`, e);
          ctx.eagain.push(o);
        } else b.add({ k: 'lock', lock: l }, `${str(e.detail).trim() || 'lock'} ${l}`.trim(), e);
        held.push(l);
        break;
      }
      case 'unlock': {
        const l = lockName(e);
        const k = held.lastIndexOf(l);
        if (k >= 0) held.splice(k, 1);
        b.add({ k: 'unlock', lock: l }, `unlock ${l}`, e);
        break;
      }
      case 'sleep': {
        const s = sleepKind(e);
        const name = str(e.callee).trim() || str(e.detail).trim() || 'a sleeping call';
        if (s.kind === 'lock') {
          if (!(s.lock in ctx.sleeping)) ctx.sleeping[s.lock] = true;
          b.add({ k: 'lock', lock: s.lock }, `sleep: ${name}(${s.lock})`, e);
          held.push(s.lock);
        } else if (s.kind === 'alloc' && ctx.nonBlocking) {
          b.add(
            { k: 'await', res: MEMORY, text: `allocates with ${name} (may sleep in reclaim): memory is available`, waitText: `allocates with ${name}: memory is exhausted, it SLEEPS in reclaim until the OOM victim's memory is freed, which only the reaper ({holder}) does` },
            `sleep: ${name}`,
            e,
          );
        } else if (s.kind === 'wait' && (ctx.nonBlocking || ctx.completion === true)) {
          const c = completionOf(s.what);
          ctx.sleeping[c] = true;
          b.add({ k: 'await', res: c, text: `${name} returns (the awaited work has completed)`, waitText: `calls ${name}: it SLEEPS until {holder} signals the work it waits for` }, `sleep: ${name}`, e);
        } else if (s.kind === 'yield' && s.drops && held.includes(s.drops)) {
          b.add({ k: 'unlock', lock: s.drops }, `sleep: ${name}: drops ${s.drops}`, e);
          b.add({ k: 'sleep', text: `${name}: schedule()` }, `sleep: ${name}: reschedules`, e);
          b.add({ k: 'lock', lock: s.drops }, `sleep: ${name}: retakes ${s.drops}`, e);
        } else b.add({ k: 'sleep', text: name }, `sleep: ${name}`, e);
        break;
      }
      case 'return': {
        const d = text(e);
        const o = b.add({ k: 'nop', text: `returns ${d.trim() || '(no value)'}` }, `return ${d.trim()}`.trim(), e);
        if (/EAGAIN|-11\b|\bfalse\b/.test(d)) ctx.eagain.push(o);
        break;
      }
      default: {
        const what = `${str(e.callee)}${e.callee && e.detail ? ': ' : ''}${str(e.detail)}`.trim();
        const via = e.via ? ` (in ${e.via})` : '';
        b.add({ k: 'nop', text: `${ev}${what ? ` ${what}` : ''}${via} (no state change)` }, `${ev}${what ? ` ${what}` : ''}`, e);
      }
    }
  }
  return held;
}

function releaseHeld(b: Builder, held: string[], last: PathEvent | undefined, where: string): void {
  for (const l of [...held].reverse()) b.add({ k: 'unlock', lock: l }, `unlock ${l} (${where}, beyond the witness path)`, last);
}

/** What the concurrent driver thread holds: the scenario's (from the flagged path), else the path's last sleep. */
function blocker(path: PathEvent[], holds: string | undefined): SleepKind {
  if (holds && holds.startsWith('completion awaited by ')) return { kind: 'wait', what: holds.slice('completion awaited by '.length) };
  if (holds && holds !== GENERIC_LOCK) return { kind: 'lock', lock: holds };
  const sleep = lastSleep(path);
  return sleep ? sleepKind(sleep) : { kind: 'lock', lock: GENERIC_LOCK };
}

function compileNonblocking(path: PathEvent[], cb: string, holds: string | undefined, warns = true): Compiled {
  const sleeping: Record<string, boolean> = { [MEMORY]: true };
  const b = new Builder();
  const entry = path.find((e) => e.event === 'entry');
  // non_block_start() (v5.4 on) makes might_sleep() warn; before, the reaper's callbacks just must not block.
  const how = warns ? 'mmu_notifier_invalidate_range_start_nonblock(MMU_NOTIFY_UNMAP) -> non_block_start()' : 'mmu_notifier_invalidate_range_start(blockable = false)';
  b.add({ k: 'nonblock', delta: 1, text: `oom_reap_task_mm(): ${how} -> ${cb}` }, 'OOM reaper: non-blocking invalidate_range_start', entry);
  const eagain: CompiledOp[] = [];
  const held = compileCallback(b, path, { sleeping, eagain, nonBlocking: true });
  const last = path[path.length - 1];
  releaseHeld(b, held, last, 'released later in the callback');
  const allLocks = Object.keys(sleeping).filter((l) => l !== MEMORY && !l.startsWith('completion'));
  allLocks.push(...held.filter((l) => !allLocks.includes(l)));
  b.add({ k: 'nonblock', delta: -1, text: `${cb} returns 0; non_block_end()` }, `${cb} returns 0`, last);
  b.add({ k: 'zap_pte' }, "OOM reaper: unmap_page_range (the victim's memory)");
  b.add({ k: 'put_zapped' }, "OOM reaper: the victim's pages are freed");
  const done = b.add({ k: 'drop', res: MEMORY, text: "has reaped the victim: its memory is free again (MMF_OOM_SKIP)" }, 'OOM reaper: memory freed');
  const eagainPc = b.pc;
  b.add({ k: 'nonblock', delta: -1, release: allLocks, text: `${cb} returns -EAGAIN; non_block_end(): mmu_notifier_invalidate_range_start_nonblock() fails` }, `${cb} returns -EAGAIN`);
  b.add({ k: 'nop', text: 'oom_reap_task_mm() returns false: the reaper skips this mm and tries again later (schedule_timeout_idle)' }, 'OOM reaper: skip this mm, retry later');
  b.add({ k: 'drop', res: MEMORY, text: "gives up after MAX_OOM_REAP_RETRIES (MMF_OOM_SKIP): the victim's own exit (blockable) or the next OOM victim frees memory" }, 'OOM reaper: gives up; memory freed elsewhere');
  done.jump = b.pc;
  patchEagain(eagain, eagainPc);
  // W: the driver thread holding what the callback waits for, waiting for memory.
  const kind = blocker(path, holds);
  const w = new Builder();
  const initiallyHeld: Record<string, string> = { [MEMORY]: 'T0' };
  if (kind.kind === 'wait') {
    const c = completionOf(kind.what);
    sleeping[c] = true;
    initiallyHeld[c] = 'W';
    w.add({ k: 'await', res: MEMORY, text: 'allocates for the pending work: memory is available', waitText: `allocates with GFP_KERNEL for the work it must complete (${kind.what} waits for it): memory is exhausted, W SLEEPS in reclaim waiting for the OOM reaper ({holder})` }, 'W: kmalloc(GFP_KERNEL)');
    w.add({ k: 'drop', res: c, text: `completes the work: ${kind.what} can return` }, 'W: signals completion');
  } else {
    const l = kind.kind === 'lock' ? kind.lock : GENERIC_LOCK;
    if (!(l in sleeping)) sleeping[l] = true;
    w.add({ k: 'lock', lock: l }, `W: lock ${l}`);
    w.add({ k: 'await', res: MEMORY, text: `allocation succeeds`, waitText: `allocates with GFP_KERNEL while holding ${l}: memory is exhausted, W SLEEPS in reclaim waiting for the OOM reaper ({holder}) to free the victim's memory` }, 'W: kmalloc(GFP_KERNEL)');
    w.add({ k: 'unlock', lock: l }, `W: unlock ${l}`);
  }
  return { programs: { T0: b.ops, W: w.ops }, sleeping, initiallyHeld };
}

function patchEagain(eagain: CompiledOp[], to: number): void {
  for (const o of eagain) {
    if (o.op.k === 'trylock') o.op = { ...o.op, failPc: to };
    else o.jump = to;
  }
}

function compileAtomic(path: PathEvent[], cb: string, holds: string | undefined): Compiled {
  const sleeping: Record<string, boolean> = { [PTL]: false };
  const { hook, caller } = atomicHook(path);
  const b = new Builder();
  const entry = path.find((e) => e.event === 'entry');
  b.add({ k: 'lock', lock: PTL }, `${caller}: lock ${PTL}`, entry);
  b.add({ k: 'nop', text: `mmu_notifier_${hook === 'arch_invalidate_secondary_tlbs' ? 'arch_invalidate_secondary_tlbs' : hook}() -> ${cb}, with ${PTL} held` }, `${hook} -> ${cb}`, entry);
  const kind = blocker(path, holds);
  const held = compileCallback(b, path, { sleeping, eagain: [], nonBlocking: false, completion: kind.kind === 'wait' });
  const last = path[path.length - 1];
  releaseHeld(b, held, last, 'released later in the callback');
  b.add({ k: 'nop', text: `${cb} returns` }, `${cb} returns`, last);
  b.add({ k: 'unlock', lock: PTL }, `${caller}: unlock ${PTL}`);
  const t1 = new Builder();
  const initiallyHeld: Record<string, string> = {};
  if (kind.kind === 'wait') {
    const c = completionOf(kind.what);
    sleeping[c] = true;
    initiallyHeld[c] = 'T1';
    t1.add({ k: 'lock', lock: PTL }, `T1: touches the page: page fault -> lock ${PTL}`);
    t1.add({ k: 'unlock', lock: PTL }, `T1: unlock ${PTL}`);
    t1.add({ k: 'drop', res: c, text: `completes the work: ${kind.what} can return` }, 'T1: signals completion');
  } else {
    const l = kind.kind === 'lock' ? kind.lock : GENERIC_LOCK;
    if (!(l in sleeping)) sleeping[l] = true;
    t1.add({ k: 'lock', lock: l }, `T1: lock ${l}`);
    t1.add({ k: 'lock', lock: PTL }, `T1: touches the page: page fault -> lock ${PTL}`);
    t1.add({ k: 'unlock', lock: PTL }, `T1: unlock ${PTL}`);
    t1.add({ k: 'unlock', lock: l }, `T1: unlock ${l}`);
  }
  return { programs: { T0: b.ops, T1: t1.ops }, sleeping, initiallyHeld };
}

/** Where the device mapping is committed on a mapping path: before the unlock of a lock taken after read_begin, else at the end. */
function commitIndex(path: PathEvent[], from: number): number {
  const held: { lock: string; at: number }[] = [];
  let best = -1;
  for (let i = 0; i < path.length; i++) {
    const e = path[i] as PathEvent;
    if (e.event === 'lock') held.push({ lock: lockName(e), at: i });
    else if (e.event === 'unlock') {
      const k = held.map((h) => h.lock).lastIndexOf(lockName(e));
      if (k >= 0) {
        if ((held[k] as { at: number }).at > from && best < 0) best = i;
        held.splice(k, 1);
      }
    }
  }
  if (best >= 0) return best;
  let end = path.length;
  while (end > 0 && ['return', 'goto'].includes(str(path[end - 1]?.event))) end--;
  return Math.max(from + 1, end);
}

function compileMapper(b: Builder, path: PathEvent[], ignoreRetry: boolean, sleeping: Record<string, boolean>): void {
  let rb = path.findIndex((e) => isCall(e, READ_BEGIN));
  const events = [...path];
  if (rb < 0) {
    const at = events.findIndex((e) => e.event !== 'entry');
    const anchor = events[Math.max(0, at)] ?? events[0];
    const k = at < 0 ? events.length : at;
    const synthetic: PathEvent = { file: str(anchor?.file), line: Number(anchor?.line) || 0, column: Number(anchor?.column) || 0, event: 'call', callee: 'mmu_interval_read_begin', detail: 'mmu_interval_read_begin (assumed: not on the witness path)' };
    events.splice(k, 0, synthetic);
    rb = k;
  }
  const commitAt = commitIndex(events, rb);
  const hasFault = events.some((e, i) => i > rb && i < commitAt && isCall(e, FAULT));
  let restart = 0;
  const held: string[] = [];
  const sinceRestart: string[] = [];
  for (let i = 0; i <= events.length; i++) {
    if (i === commitAt) b.add({ k: 'commit', sub: 'mni' }, 'program the device page table (commit)', events[Math.min(i, events.length - 1)]);
    const e = events[i];
    if (!e) break;
    if (isCall(e, READ_BEGIN)) {
      restart = b.pc;
      sinceRestart.length = 0;
      b.add({ k: 'seq_begin', sub: 'mni', res: IN_PROGRESS }, 'seq = mmu_interval_read_begin()', e);
      if (i === rb && !hasFault) b.add({ k: 'seq_fault' }, 'hmm_range_fault() (assumed: the pages are faulted in)', e);
    } else if (isCall(e, READ_RETRY)) {
      const ignore = ignoreRetry && !/checked/.test(text(e));
      b.add({ k: 'seq_retry', sub: 'mni', ignore, restartPc: restart, release: [...sinceRestart] }, `mmu_interval_read_retry()${ignore ? ' (result ignored)' : ''}`, e);
    } else if (i > rb && isCall(e, FAULT)) b.add({ k: 'seq_fault' }, `${str(e.callee) || 'fault'}()`, e);
    else if (e.event === 'lock') {
      const l = lockName(e);
      if (!(l in sleeping)) sleeping[l] = sleepingLock(l, text(e));
      held.push(l);
      sinceRestart.push(l);
      b.add({ k: 'lock', lock: l }, `${str(e.detail).trim() || 'lock'} ${l}`, e);
    } else if (e.event === 'unlock') {
      const l = lockName(e);
      const k = held.lastIndexOf(l);
      if (k >= 0) held.splice(k, 1);
      const j = sinceRestart.lastIndexOf(l);
      if (j >= 0) sinceRestart.splice(j, 1);
      b.add({ k: 'unlock', lock: l }, `unlock ${l}`, e);
    } else {
      const what = `${str(e.callee)}${e.callee && e.detail ? ': ' : ''}${str(e.detail)}`.trim();
      b.add({ k: 'nop', text: `${str(e.event)}${what ? ` ${what}` : ''} (no state change)` }, `${str(e.event)}${what ? ` ${what}` : ''}`, e);
    }
  }
  releaseHeld(b, held, events[events.length - 1], 'released later in the function');
}

/** The kernel's side of an interval-notifier invalidation, with the driver's invalidate in `callback`. */
function invalidationOps(b: Builder, callback: () => void, first: PathEvent | undefined): void {
  b.add({ k: 'range_open', blockable: true }, 'munmap: mmu_notifier_invalidate_range_start (UNMAP) -> mni.invalidate', first);
  callback();
  b.add({ k: 'lock', lock: PTL }, `munmap: lock ${PTL}`);
  b.add({ k: 'zap_pte' }, 'munmap: zap_pte_range (clear PTE, flush)');
  b.add({ k: 'unlock', lock: PTL }, `munmap: unlock ${PTL}`);
  b.add({ k: 'put_zapped' }, 'munmap: free the unmapped page');
  b.add({ k: 'sub_end', sub: 'mni', res: IN_PROGRESS }, 'munmap: mmu_notifier_invalidate_range_end');
}

function compileInterval(path: PathEvent[], variant: string): Compiled {
  const lock = intervalLock(path, variant);
  const sleeping: Record<string, boolean> = { [PTL]: false, [IN_PROGRESS]: true };
  if (!(lock in sleeping)) {
    const e = path.find((x) => x.event === 'lock' && lockName(x) === lock);
    sleeping[lock] = e ? sleepingLock(lock, text(e)) : true;
  }
  if (variant === 'no-set-seq') {
    const b = new Builder();
    invalidationOps(b, () => {
      // The flagged invalidate callback: its own events, the device zap under its lock (before the last unlock).
      let lastUnlock = -1;
      path.forEach((e, i) => {
        if (e.event === 'unlock') lastUnlock = i;
      });
      let end = path.length;
      while (end > 0 && path[end - 1]?.event === 'return') end--;
      const zapAt = lastUnlock >= 0 ? lastUnlock : end;
      const held: string[] = [];
      for (let i = 0; i <= path.length; i++) {
        if (i === zapAt) b.add({ k: 'dev_zap', sub: 'mni' }, 'invalidate: zap the device mapping', path[Math.min(i, path.length - 1)]);
        const e = path[i];
        if (!e) break;
        if (isCall(e, SET_SEQ)) b.add({ k: 'set_seq', sub: 'mni', res: IN_PROGRESS }, 'mmu_interval_set_seq(mni, cur_seq)', e);
        else if (e.event === 'lock') {
          const l = lockName(e);
          if (!(l in sleeping)) sleeping[l] = sleepingLock(l, text(e));
          held.push(l);
          b.add({ k: 'lock', lock: l }, `${str(e.detail).trim() || 'lock'} ${l}`, e);
        } else if (e.event === 'unlock') {
          const l = lockName(e);
          const k = held.lastIndexOf(l);
          if (k >= 0) held.splice(k, 1);
          b.add({ k: 'unlock', lock: l }, `unlock ${l}`, e);
        } else {
          const what = `${str(e.callee)}${e.callee && e.detail ? ': ' : ''}${str(e.detail)}`.trim();
          b.add({ k: 'nop', text: `${str(e.event)}${what ? ` ${what}` : ''} (no state change)` }, `${str(e.event)}${what ? ` ${what}` : ''}`, e);
        }
      }
      releaseHeld(b, held, path[path.length - 1], 'released later in the callback');
    }, path[0]);
    // T1: the correct hmm.rst mapping loop.
    const t1 = new Builder();
    t1.add({ k: 'seq_begin', sub: 'mni', res: IN_PROGRESS }, 'T1: seq = mmu_interval_read_begin()');
    t1.add({ k: 'seq_fault' }, 'T1: hmm_range_fault()');
    t1.add({ k: 'lock', lock }, `T1: lock ${lock}`);
    t1.add({ k: 'seq_retry', sub: 'mni', ignore: false, restartPc: 0, release: [lock] }, 'T1: mmu_interval_read_retry()');
    t1.add({ k: 'commit', sub: 'mni' }, 'T1: program the device page table (commit)');
    t1.add({ k: 'unlock', lock }, `T1: unlock ${lock}`);
    return { programs: { T0: b.ops, T1: t1.ops }, sleeping, initiallyHeld: {} };
  }
  const b = new Builder();
  compileMapper(b, path, variant === 'retry-ignored', sleeping);
  const t2 = new Builder();
  invalidationOps(t2, () => {
    t2.add({ k: 'lock', lock }, `mni.invalidate: lock ${lock}`);
    t2.add({ k: 'set_seq', sub: 'mni', res: IN_PROGRESS }, 'mni.invalidate: mmu_interval_set_seq(mni, cur_seq)');
    t2.add({ k: 'dev_zap', sub: 'mni' }, 'mni.invalidate: zap the device mapping');
    t2.add({ k: 'unlock', lock }, `mni.invalidate: unlock ${lock}; return true`);
  }, undefined);
  return { programs: { T0: b.ops, T2: t2.ops }, sleeping, initiallyHeld: {} };
}

/** The mmap lock the path holds (its name), from its lock events. */
function mmapLock(path: PathEvent[]): PathEvent | undefined {
  return path.find((e) => e.event === 'lock' && /mmap_(lock|sem)|mmap_(read|write)_lock|down_(read|write)\(.*mmap/.test(`${lockName(e)} ${text(e)}`));
}

function compileRegister(path: PathEvent[]): Compiled {
  const events = [...path];
  let m = mmapLock(events);
  if (!m) {
    const at = Math.max(0, events.findIndex((e) => e.event !== 'entry'));
    const anchor = events[at] ?? events[0];
    m = { file: str(anchor?.file), line: Number(anchor?.line) || 0, column: Number(anchor?.column) || 0, event: 'lock', lock: 'mm->mmap_lock', detail: 'mmap_write_lock (assumed: not on the witness path)' };
    events.splice(events.length === 0 ? 0 : at, 0, m);
  }
  const M = lockName(m, 'mm->mmap_lock');
  if (!events.some((e) => isCall(e, REGISTER))) {
    const last = events[events.length - 1];
    events.push({ file: str(last?.file), line: Number(last?.line) || 0, column: Number(last?.column) || 0, event: 'call', callee: 'mmu_notifier_register', detail: 'mmu_notifier_register (assumed: not on the witness path)' });
  }
  const sleeping: Record<string, boolean> = { [M]: true };
  const b = new Builder();
  const held: string[] = [];
  for (const e of events) {
    if (e.event === 'lock') {
      const l = e === m ? M : lockName(e);
      if (!(l in sleeping)) sleeping[l] = sleepingLock(l, text(e));
      held.push(l);
      b.add({ k: 'lock', lock: l }, `${str(e.detail).trim() || 'lock'} ${l}`, e);
    } else if (e.event === 'unlock') {
      const l = /mmap/.test(`${lockName(e)} ${text(e)}`) ? M : lockName(e);
      const k = held.lastIndexOf(l);
      if (k >= 0) held.splice(k, 1);
      b.add({ k: 'unlock', lock: l }, `unlock ${l}`, e);
    } else if (isCall(e, REGISTER_LOCKED)) {
      b.add({ k: 'nop', text: `${str(e.callee) || 'registration'}(): registers with the mmap lock held by the caller (mmap_assert_write_locked), takes no lock` }, `${str(e.callee) || 'register'}()`, e);
    } else if (isCall(e, REGISTER)) {
      const name = /\w*(mmu_notifier_register|mmu_interval_notifier_insert|mmu_notifier_get)\w*/.exec(text(e))?.[0] ?? 'mmu_notifier_register';
      b.add({ k: 'lock', lock: M }, `${name}(): mmap_write_lock(mm)`, e);
      b.add({ k: 'nop', text: `${name}(): the notifier is added to the mm` }, `${name}(): add the notifier`, e);
      b.add({ k: 'unlock', lock: M }, `${name}(): mmap_write_unlock(mm)`, e);
    } else {
      const what = `${str(e.callee)}${e.callee && e.detail ? ': ' : ''}${str(e.detail)}`.trim();
      b.add({ k: 'nop', text: `${str(e.event)}${what ? ` ${what}` : ''}${e.via ? ` (in ${e.via})` : ''} (no state change)` }, `${str(e.event)}${what ? ` ${what}` : ''}`, e);
    }
  }
  releaseHeld(b, held, events[events.length - 1], 'released later in the function');
  return { programs: { T0: b.ops }, sleeping, initiallyHeld: {} };
}

export function buildSubscriberModel(scenario: Scenario, path: PathEvent[]): Model {
  const variant = scenario.variant ?? 'sleeps';
  const cb = callbackName(path, {});
  let c: Compiled;
  const holds = scenario.actors.find((a) => a.kind === 'thread')?.holds;
  if (scenario.rule === 'nonblocking-invalidate-sleeps') {
    const v = parseVersion(scenario.kernelVersion);
    c = compileNonblocking(path, cb, holds, !v || atLeast(v, 5, 4));
  }
  else if (scenario.rule === 'atomic-callback-sleeps') c = compileAtomic(path, cb, holds);
  else if (scenario.rule === 'interval-sequence') c = compileInterval(path, variant);
  else c = compileRegister(path);
  const locks: Record<string, string | null> = {};
  for (const ops of Object.values(c.programs)) {
    for (const o of ops) {
      const op = o.op;
      if (op.k === 'lock' || op.k === 'unlock' || op.k === 'trylock') locks[op.lock] = null;
      else if (op.k === 'await' || op.k === 'drop' || op.k === 'seq_begin' || op.k === 'set_seq' || op.k === 'sub_end') locks[op.res] = null;
    }
  }
  for (const l of Object.keys(locks)) if (!(l in c.sleeping)) c.sleeping[l] = /mutex|sem|mmap|memory|completion|invalidation/.test(l);
  const threads: ThreadState[] = [];
  for (const a of scenario.actors) {
    if (a.kind !== 'path' && a.kind !== 'invalidation' && a.kind !== 'thread') continue;
    c.programs[a.id] ??= [];
    threads.push(newThread(a.id));
  }
  for (const id of Object.keys(c.programs)) if (!scenario.actors.some((a) => a.id === id)) delete c.programs[id];
  for (const [l, holder] of Object.entries(c.initiallyHeld)) {
    const t = threads.find((x) => x.id === holder);
    if (!t) continue;
    locks[l] = holder;
    t.held.push(l);
  }
  const initial: SimState = {
    threads,
    locks,
    pte: { page: 'OLD', writable: true },
    pages: [{ id: 'OLD', refcount: 1, mapcount: 1, wasMapped: true, state: 'live', content: 'process data' }],
    subs: scenario.subscribers.map((s) => ({ id: s.id, open: [], seq: 0, shadow: null, pinned: null })),
    ranges: [],
    devices: scenario.actors.filter((a) => a.kind === 'device').map((a) => ({ id: a.id, left: 1 })),
  };
  const subs: Record<string, SubscriberSpec> = {};
  for (const s of scenario.subscribers) subs[s.id] = s;
  const version: Version = parseVersion(scenario.kernelVersion);
  return { scenario, version, programs: c.programs, ptl: PTL, sleeping: c.sleeping, newPte: { page: 'OLD', writable: true }, subs, initial };
}

// ----- The fixed path -----

function at(anchor: PathEvent | undefined, event: PathEvent['event'], extra: Partial<PathEvent>): PathEvent {
  return { file: str(anchor?.file), line: Number(anchor?.line) || 0, column: Number(anchor?.column) || 0, event, ...extra };
}

function isSleeping(e: PathEvent): boolean {
  if (e.event === 'sleep') return true;
  if (e.event !== 'lock') return false;
  const how = text(e);
  return !/trylock/.test(how) && sleepingLock(lockName(e), how);
}

export function fixSubscriberPath(rule: string, path: PathEvent[], scenario: Scenario): { path: PathEvent[]; scenario: Scenario; description: string } {
  const variant = scenario.variant ?? 'sleeps';
  const entryAt = path.findIndex((e) => e.event === 'entry');
  const entry = path[entryAt];
  if (rule === 'nonblocking-invalidate-sleeps') {
    const sleeps = path.map((e, i) => (isSleeping(e) ? i : -1)).filter((i) => i >= 0);
    const last = sleeps.length > 0 ? (sleeps[sleeps.length - 1] as number) : -1;
    const e = path[last];
    const kind = e && e.event === 'sleep' ? sleepKind(e) : null;
    if (e && sleeps.length === 1 && kind?.kind === 'lock') {
      const l = kind.lock;
      const callee = str(e.callee) || 'mutex_lock';
      const tryName = /down_read/.test(callee) ? 'down_read_trylock' : /down_write/.test(callee) ? 'down_write_trylock' : 'mutex_trylock';
      const out = [
        ...path.slice(0, last),
        at(e, 'branch', { detail: 'mmu_notifier_range_blockable(range) -> false' }),
        at(e, 'lock', { lock: l, detail: `${tryName} (inserted by the fix; fails -> return -EAGAIN)` }),
        ...path.slice(last + 1),
      ];
      return { path: out, scenario, description: `if (mmu_notifier_range_blockable(range)) ${callee}(${l}); else if (!${tryName}(${l})) return -EAGAIN; the reaper never sleeps in the callback: it skips the mm and retries later` };
    }
    const head = entryAt >= 0 ? path.slice(0, entryAt + 1) : [];
    const anchor = entry ?? path[0];
    const out = [
      ...head,
      at(anchor, 'branch', { detail: '!mmu_notifier_range_blockable(range) -> true (inserted by the fix)' }),
      at(anchor, 'return', { detail: '-EAGAIN' }),
    ];
    return { path: out, scenario, description: 'if (!mmu_notifier_range_blockable(range)) return -EAGAIN; before anything that sleeps: the OOM reaper skips this mm and retries later' };
  }
  if (rule === 'atomic-callback-sleeps') {
    const out: PathEvent[] = [];
    const dropped: string[] = [];
    const droppedLocks: string[] = [];
    for (const e of path) {
      if (isSleeping(e)) {
        const name = e.event === 'sleep' ? str(e.callee).trim() || str(e.detail).trim() || 'the sleeping call' : `${str(e.detail).trim() || 'lock'}(${lockName(e)})`;
        dropped.push(name);
        if (e.event === 'lock') droppedLocks.push(lockName(e));
        out.push(at(e, 'call', { callee: 'schedule_work', detail: `${name} deferred out of the atomic callback (a work item or invalidate_range_end, outside the PTL; inserted by the fix)` }));
      } else if (e.event === 'unlock' && droppedLocks.includes(lockName(e))) continue;
      else out.push(e);
    }
    const what = dropped.length > 0 ? dropped.join(', ') : 'the sleeping call';
    return { path: out, scenario, description: `the callback no longer sleeps under the page-table lock: ${what} moved out (to invalidate_range_end or a work item), or replaced by a non-sleeping form (spinlock, GFP_ATOMIC)` };
  }
  if (rule === 'interval-sequence') return fixInterval(path, variant, scenario);
  // register-under-mmap-lock
  const m = mmapLock(path);
  const readLocked = m ? /read/.test(text(m)) : false;
  const reg = path.findIndex((e) => isCall(e, REGISTER) && !isCall(e, REGISTER_LOCKED));
  if (readLocked && m) {
    const M = lockName(m);
    const unlock = path.findIndex((e, i) => i > reg && e.event === 'unlock' && (lockName(e) === M || /mmap/.test(text(e))));
    const r = path[reg];
    if (r && unlock >= 0) {
      const out = path.filter((_, i) => i !== reg);
      const u = out.indexOf(path[unlock] as PathEvent);
      out.splice(u + 1, 0, { ...r, detail: `${str(r.callee) || 'registration'} after mmap_read_unlock() (moved by the fix)` });
      return { path: out, scenario, description: `${str(r.callee) || 'the registration'} moved after the mmap read lock is released (the __/_locked forms need it held for write)` };
    }
    const kept = path.filter((e, i) => i !== reg && !(e.event === 'lock' && e === m));
    const unlockIdx = kept.findIndex((e) => e.event === 'unlock' && (lockName(e) === M || /mmap/.test(text(e))));
    const cleaned = unlockIdx >= 0 ? kept.filter((_, i) => i !== unlockIdx) : kept;
    cleaned.push(at(r ?? path[path.length - 1], 'call', { callee: str(r?.callee) || 'mmu_notifier_register', detail: 'registration without the mmap lock held (moved by the fix)' }));
    return { path: cleaned, scenario, description: 'the registration is made without the mmap lock held (it takes the lock itself)' };
  }
  if (reg < 0) {
    // No registration call on the path: the fix is the locked form at the end.
    const last = path[path.length - 1];
    return { path: [...path, at(last, 'call', { callee: '__mmu_notifier_register', detail: '__mmu_notifier_register (inserted by the fix: the mmap lock is held)' })], scenario, description: '__mmu_notifier_register() / mmu_interval_notifier_insert_locked(), which expect the mmap lock held for write' };
  }
  const r = path[reg] as PathEvent;
  const locked = /mmu_interval_notifier_insert/.test(text(r)) ? 'mmu_interval_notifier_insert_locked' : /mmu_notifier_get/.test(text(r)) ? 'mmu_notifier_get_locked' : '__mmu_notifier_register';
  const out = path.map((e, i) => (i === reg ? { ...e, callee: locked, detail: `${locked} (replaces ${str(e.callee) || 'the registration'}; the mmap lock is held for write)` } : e));
  return { path: out, scenario, description: `${str(r.callee) || 'the registration'}() replaced by ${locked}(), which expects the mmap lock held for write (or register after mmap_write_unlock())` };
}

function fixInterval(path: PathEvent[], variant: string, scenario: Scenario): { path: PathEvent[]; scenario: Scenario; description: string } {
  const lock = intervalLock(path, variant);
  if (variant === 'no-set-seq') {
    const firstLock = path.findIndex((e) => e.event === 'lock');
    if (firstLock >= 0) {
      const l = path[firstLock] as PathEvent;
      const out = [...path.slice(0, firstLock + 1), at(l, 'call', { callee: 'mmu_interval_set_seq', detail: 'mmu_interval_set_seq(mni, cur_seq) (inserted by the fix)' }), ...path.slice(firstLock + 1)];
      return { path: out, scenario, description: `mmu_interval_set_seq(mni, cur_seq) under ${lockName(l)} before the device mapping is zapped (hmm.rst), so a mapping path that read the old sequence retries` };
    }
    const entryAt = path.findIndex((e) => e.event === 'entry');
    const anchor = path[Math.max(0, entryAt)];
    let end = path.length;
    while (end > 0 && path[end - 1]?.event === 'return') end--;
    const out = [
      ...path.slice(0, entryAt + 1),
      at(anchor, 'lock', { lock, detail: 'mutex_lock (inserted by the fix)' }),
      at(anchor, 'call', { callee: 'mmu_interval_set_seq', detail: 'mmu_interval_set_seq(mni, cur_seq) (inserted by the fix)' }),
      ...path.slice(entryAt + 1, end),
      at(path[end - 1] ?? anchor, 'unlock', { lock, detail: 'mutex_unlock (inserted by the fix)' }),
      ...path.slice(end),
    ];
    return { path: out, scenario, description: `the invalidate takes ${lock}, calls mmu_interval_set_seq(mni, cur_seq), zaps the device mapping and unlocks (hmm.rst)` };
  }
  // The hmm.rst loop: read_begin; fault; lock; if (read_retry) { unlock; goto again; } program; unlock.
  const rb = path.findIndex((e) => isCall(e, READ_BEGIN));
  const entryAt = path.findIndex((e) => e.event === 'entry');
  const head = rb >= 0 ? path.slice(0, rb + 1) : [...path.slice(0, entryAt + 1), at(path[Math.max(0, entryAt)], 'call', { callee: 'mmu_interval_read_begin', detail: 'mmu_interval_read_begin (inserted by the fix)' })];
  const anchor = head[head.length - 1] ?? path[0];
  const fault = path.find((e, i) => i > rb && isCall(e, FAULT)) ?? at(anchor, 'call', { callee: 'hmm_range_fault', detail: 'hmm_range_fault (the pages are faulted in)' });
  const lockEv = path.find((e, i) => i > rb && e.event === 'lock' && lockName(e) === lock) ?? path.find((e) => e.event === 'lock' && lockName(e) === lock);
  const lockDetail = lockEv ? str(lockEv.detail) || 'mutex_lock' : 'mutex_lock (inserted by the fix)';
  const last = path[path.length - 1] ?? anchor;
  const out = [
    ...head,
    fault,
    at(fault, 'lock', { lock, detail: lockDetail }),
    at(fault, 'call', { callee: 'mmu_interval_read_retry', detail: 'mmu_interval_read_retry(mni, seq) checked under the lock (on true: unlock, goto again)' }),
    at(fault, 'branch', { detail: 'mmu_interval_read_retry(mni, seq) -> false' }),
    at(last, 'unlock', { lock, detail: lockDetail.replace(/lock/, 'unlock') }),
    at(last, 'return', { detail: '0' }),
  ];
  return { path: out, scenario, description: `the hmm.rst loop: seq = mmu_interval_read_begin(); fault the pages in; lock ${lock}; if (mmu_interval_read_retry(mni, seq)) { unlock; goto again; } program the device; unlock ${lock}` };
}
