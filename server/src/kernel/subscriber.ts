// The subscriber side of the kernel model: the callbacks of struct mmu_notifier_ops / mmu_interval_notifier_ops, the
// contract each one must keep in a given kernel version, how that version spells "the range is blockable", and which
// calls may sleep. Shared by the subscriber rules (server/src/subscriber) and the quick-fixes.
import { vkey, type KernelModel } from './model';

export type OpsKind = 'notifier' | 'interval' | 'hmm_mirror';
export type Contract = 'nonblocking' | 'atomic';

export interface CallbackContract {
  ops: OpsKind;
  field: string;
  contract: Contract;
  /** First version with the contract, and the first version without the callback (exclusive). */
  since: [number, number];
  until?: [number, number];
  /** What the contract is and where it comes from (hover, rule help). */
  why: string;
}

export const CALLBACK_CONTRACTS: CallbackContract[] = [
  {
    ops: 'notifier', field: 'invalidate_range_start', contract: 'nonblocking', since: [4, 19],
    why: 'since v4.19 (93065ac753e4 "mm, oom: distinguish blockable mode for mmu notifiers") the OOM reaper invalidates with a non-blockable range (event MMU_NOTIFY_UNMAP): the callback must not sleep then, and returns -EAGAIN instead (or uses a trylock)',
  },
  {
    ops: 'interval', field: 'invalidate', contract: 'nonblocking', since: [5, 5],
    why: 'interval notifiers (v5.5, 99cb252f5e68) are invalidated by the OOM reaper with a non-blockable range: the invalidate callback must not sleep then, and returns false instead (or uses a trylock)',
  },
  {
    ops: 'hmm_mirror', field: 'sync_cpu_device_pagetables', contract: 'nonblocking', since: [5, 0], until: [5, 6],
    why: 'HMM mirrors (v5.0 to v5.5) get the invalidation through sync_cpu_device_pagetables(), called from the mm\'s invalidate_range_start with its blockable flag (update->blockable, then mmu_notifier_range_blockable()): when it is false the callback must return -EAGAIN instead of sleeping',
  },
  {
    ops: 'notifier', field: 'change_pte', contract: 'atomic', since: [2, 6], until: [6, 9],
    why: 'change_pte is called from set_pte_at_notify() with the page-table lock held (until its removal in v6.9): it must never sleep',
  },
  {
    ops: 'notifier', field: 'invalidate_range', contract: 'atomic', since: [4, 0], until: [6, 6],
    why: 'invalidate_range is called from the *_clear_flush_notify() helpers with the page-table lock held (v4.0 to v6.5): it must never sleep',
  },
  {
    ops: 'notifier', field: 'arch_invalidate_secondary_tlbs', contract: 'atomic', since: [6, 6],
    why: 'arch_invalidate_secondary_tlbs is called with the page-table lock held (v6.6 on, 1af5a8109904): it must never sleep',
  },
];

/** The contract of `field` in ops of `kind` for the audited version (any version when it is unknown). */
export function contractOf(model: KernelModel, kind: OpsKind, field: string): CallbackContract | undefined {
  const c = CALLBACK_CONTRACTS.find((x) => x.ops === kind && x.field === field);
  if (!c || model.unknown) return c;
  if (model.v < vkey(...c.since)) return undefined;
  if (c.until && model.v >= vkey(...c.until)) return undefined;
  return c;
}

/**
 * How a callback's version spells "the range is blockable", from its own parameters (the signature says which API
 * the file was written against) and the audited version: the condition to test, and what to return when it is false.
 */
export function blockableTest(model: KernelModel, kind: OpsKind, params: Array<{ name: string; type: string }>): { cond: string; bail: string } | undefined {
  const bail = kind === 'interval' ? 'false' : '-EAGAIN';
  const bool = params.find((p) => /^_?Bool$|^bool$/.test(p.type.trim()));
  if (kind === 'notifier' && bool) return { cond: bool.name, bail };
  const update = params.find((p) => /struct\s+hmm_update\b/.test(p.type));
  if (update) return { cond: `${update.name}->blockable`, bail };
  const range = params.find((p) => /struct\s+mmu_notifier_range\b/.test(p.type));
  if (!range) return undefined;
  // v5.0 and v5.1 had range->blockable; v5.2 (27560ee9) added mmu_notifier_range_blockable().
  if (!model.unknown && model.v < vkey(5, 2)) return { cond: `${range.name}->blockable`, bail };
  return { cond: `mmu_notifier_range_blockable(${range.name})`, bail };
}

/** Calls that may sleep, by name (the name alone is enough). */
const SLEEPERS = new Set([
  'mutex_lock', 'mutex_lock_interruptible', 'mutex_lock_killable', 'mutex_lock_nested', 'mutex_lock_io', 'mutex_lock_interruptible_nested', 'mutex_lock_killable_nested',
  'down', 'down_interruptible', 'down_killable', 'down_timeout', 'down_read', 'down_read_killable', 'down_read_interruptible', 'down_read_nested',
  'down_write', 'down_write_killable', 'down_write_nested', 'mmap_read_lock', 'mmap_write_lock', 'mmap_read_lock_killable', 'mmap_write_lock_killable',
  'ww_mutex_lock', 'ww_mutex_lock_interruptible', 'dma_resv_lock', 'dma_resv_lock_interruptible', 'reservation_object_lock',
  'wait_for_completion', 'wait_for_completion_timeout', 'wait_for_completion_interruptible', 'wait_for_completion_killable', 'wait_for_completion_interruptible_timeout', 'wait_for_completion_io',
  'msleep', 'msleep_interruptible', 'ssleep', 'usleep_range', 'schedule', 'schedule_timeout', 'schedule_timeout_interruptible', 'schedule_timeout_uninterruptible', 'schedule_timeout_killable', 'io_schedule',
  'cond_resched', 'cond_resched_lock', 'cond_resched_rwlock_read', 'cond_resched_rwlock_write',
  'flush_work', 'flush_workqueue', 'flush_delayed_work', 'drain_workqueue', 'cancel_work_sync', 'cancel_delayed_work_sync', 'flush_scheduled_work',
  'dma_fence_wait', 'dma_fence_wait_timeout', 'dma_fence_wait_any_timeout', 'dma_fence_default_wait', 'fence_wait', 'fence_wait_timeout',
  'dma_resv_wait_timeout', 'dma_resv_wait_timeout_rcu', 'reservation_object_wait_timeout_rcu',
  'synchronize_rcu', 'synchronize_srcu', 'synchronize_rcu_expedited', 'synchronize_srcu_expedited', 'rcu_barrier', 'srcu_barrier',
  'mmput', 'lock_page', 'folio_lock', 'wait_on_page_locked', 'wait_on_page_writeback', 'might_sleep', 'kthread_stop', 'mmu_notifier_synchronize',
  'get_user_pages', 'get_user_pages_remote', 'get_user_pages_fast', 'pin_user_pages', 'pin_user_pages_remote', 'pin_user_pages_fast', 'hmm_range_fault',
  'wait_on_bit', 'wait_on_bit_io', 'vmalloc', 'vzalloc',
]);
const SLEEP_PREFIX = /^(?:wait_event|wait_var_event)\w*$|^down_(?:read|write)(?!_trylock)\w*$/;
/** GFP flags whose allocations may enter direct reclaim (and so sleep). */
const SLEEPING_GFP = /\b(?:GFP_KERNEL|GFP_KERNEL_ACCOUNT|GFP_USER|GFP_HIGHUSER|GFP_HIGHUSER_MOVABLE|GFP_NOFS|GFP_NOIO)\b/;

/** The label of a call that may sleep ("mutex_lock", "kzalloc(GFP_KERNEL)"), or undefined. */
export function sleepingCall(name: string, argTexts: string[]): string | undefined {
  if (SLEEPERS.has(name) || SLEEP_PREFIX.test(name)) return name;
  if (/trylock|_try\b|nowait|_atomic\b/.test(name)) return undefined;
  // `blockable ? GFP_KERNEL : GFP_NOWAIT` chooses by the flag: not a sleep of its own.
  const gfp = argTexts.find((a) => SLEEPING_GFP.test(a) && !a.includes('?'));
  if (gfp) return `${name}(${SLEEPING_GFP.exec(gfp)![0]})`;
  return undefined;
}

/** Sleeping locks: the call takes the lock given as its first argument (for the trylock form of the fix). */
export const TRYLOCK_OF: Record<string, string> = {
  mutex_lock: 'mutex_trylock',
  down_read: 'down_read_trylock',
  down_write: 'down_write_trylock',
  mmap_read_lock: 'mmap_read_trylock',
  dma_resv_lock: 'dma_resv_trylock',
};

/** Lock and unlock calls the subscriber walk records as events (driver locks: spinlocks, mutexes, rwsems). */
export const DRIVER_LOCK = /^(?:spin_lock|spin_lock_irq|spin_lock_irqsave|spin_lock_bh|raw_spin_lock|raw_spin_lock_irqsave|read_lock|write_lock|mutex_lock\w*|down_read\w*|down_write\w*|mmap_read_lock\w*|mmap_write_lock\w*)$/;
export const DRIVER_UNLOCK = /^(?:spin_unlock|spin_unlock_irq|spin_unlock_irqrestore|spin_unlock_bh|raw_spin_unlock|raw_spin_unlock_irqrestore|read_unlock|write_unlock|mutex_unlock|up_read|up_write|mmap_read_unlock|mmap_write_unlock)$/;
/** Trylock forms: they take the lock only when they return true (non-zero). */
export const DRIVER_TRYLOCK = /^(?:spin_trylock|mutex_trylock|down_read_trylock|down_write_trylock|mmap_read_trylock|mmap_write_trylock)$/;

/** The mmap lock: its lock and unlock calls (v5.8 on: mmap_*_lock; before: the mmap_sem rwsem). */
export function isMmapLockExpr(lock: string): boolean {
  return /(?:^|->|\.)mmap_(?:sem|lock)$/.test(lock);
}

/** Registration calls: take the mmap lock themselves (`takes`) or need it held (`needs`). */
export const REGISTER_TAKES = new Set(['mmu_notifier_register', 'mmu_interval_notifier_insert', 'mmu_notifier_get']);
export const REGISTER_NEEDS = new Set(['__mmu_notifier_register', 'mmu_interval_notifier_insert_locked', 'mmu_notifier_get_locked']);
