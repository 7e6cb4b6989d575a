// The subscriber rules' metadata (help, limits, the commits behind each contract). They are not checked per function
// on the mm side's observations: the subscriber pass (engine/subscribers.ts, server/src/subscriber) finds them.
import type { Rule } from './types';

export const nonblockingInvalidateSleeps: Rule = {
  meta: {
    id: 'nonblocking-invalidate-sleeps',
    title: 'invalidate callback sleeps when the range is not blockable',
    introducedBy: '93065ac753e4 "mm, oom: distinguish blockable mode for mmu notifiers" (v4.19); range->blockable (v5.0, ac46d4f3c432); mmu_notifier_range_blockable() (v5.2); interval notifiers (v5.5, 99cb252f5e68)',
    help:
      'Finds a call that may sleep (mutex_lock, down_read/down_write, wait_event*, wait_for_completion*, msleep, schedule*, cond_resched*, ' +
      'flush_work(queue), dma_fence_wait*, dma_resv_wait_timeout, synchronize_(s)rcu, mmput, lock_page, GFP_KERNEL allocations, and any ' +
      'function that reaches one, across files) reached from an invalidate_range_start callback, or an interval notifier\'s invalidate, on a ' +
      'path where the range\'s blockable flag was not tested true. The OOM reaper invalidates with a non-blockable range (event ' +
      'MMU_NOTIFY_UNMAP): the callback must return -EAGAIN (interval: false) or use a trylock instead of sleeping. The finding sits on the ' +
      'sleeping call; its witness path starts at the callback. Sleeping only where the event is not MMU_NOTIFY_UNMAP, or after the flag was ' +
      'tested, is correct; so is passing the flag down (a may_block/blockable parameter, range->may_block) and testing it there. Quick-fix: ' +
      'the test and bail-out in the spelling of the callback\'s version, or blockable-lock-else-trylock for the callback\'s own lock.',
    limits:
      'Callbacks are found from ops initializers and field assignments in the audited files. Calls through function pointers are followed only ' +
      'when the function is passed to a helper that calls that parameter, or put in a designated initializer whose field a callee calls. ' +
      'A flag is recognised by its spelling (blockable, may_block, MMU_NOTIFIER_RANGE_BLOCKABLE, mmu_notifier_range_blockable()). ' +
      'Conditions correlated with the flag through other variables are not followed. Callees are followed 8 calls deep.',
  },
};

export const atomicCallbackSleeps: Rule = {
  meta: {
    id: 'atomic-callback-sleeps',
    title: 'atomic notifier callback may sleep',
    introducedBy: 'change_pte (v2.6.33 to v6.8, called from set_pte_at_notify() under the PTL); invalidate_range (0f0a327fa12c, v4.0 to v6.5); arch_invalidate_secondary_tlbs (1af5a8109904, v6.6)',
    help:
      'Finds a call that may sleep reached from a change_pte, invalidate_range or arch_invalidate_secondary_tlbs callback. These run with the ' +
      'page-table spinlock held: a sleep there is "scheduling while atomic", and a sleeping lock held by a thread that faults on the same ' +
      'PTL deadlocks. Same sleep model and placement as nonblocking-invalidate-sleeps; no test of a flag makes a sleep correct here.',
    limits: 'As nonblocking-invalidate-sleeps. No quick-fix: the sleeping work has to move out of the callback.',
  },
};

export const intervalSequence: Rule = {
  meta: {
    id: 'interval-sequence',
    title: 'interval notifier sequence protocol broken',
    introducedBy: '99cb252f5e68 "mm/mmu_notifier: add an interval tree notifier" (v5.5); Documentation/mm/hmm.rst',
    help:
      'Checks the two halves of the interval-notifier protocol where a driver uses it (its invalidate calls mmu_interval_set_seq(), or a ' +
      'retry tests a notifier inserted with its ops). An invalidate callback that can return true without mmu_interval_set_seq(mni, cur_seq) ' +
      'on that path (reported on the return; a path that skips it only after a test of range->event or range->owner, the driver\'s own ' +
      'migration, is a hint, not an error). A mapping path whose mmu_interval_read_begin() sequence never reaches mmu_interval_read_retry()/' +
      'mmu_interval_check_retry(); a retry whose result decides nothing; a function that runs the whole protocol but tests the retry with no ' +
      'lock held, or under a lock the invalidate callback does not take. Each leaves the device with a stale translation of a page being ' +
      'freed. A read_begin() whose result is dropped is a hint: drivers use it to wait for the invalidations in progress.',
    limits:
      'A sequence stored in a structure or passed to another function is checked where it is used, not followed. The lock at the retry is ' +
      'recognised by name (spin/mutex/rwsem calls and *_lock() wrappers) and compared with the invalidate callbacks\' locks of the same directory by identity (the last field of the lock expression, or the wrapper\'s stem).',
  },
};

export const registerUnderMmapLock: Rule = {
  meta: {
    id: 'register-under-mmap-lock',
    title: 'notifier registration with the mmap lock held',
    introducedBy: 'mmu_notifier_register() takes mmap_sem since v2.6.27 (cddb8a5c14aa); mmu_interval_notifier_insert() (v5.5); mmap_lock API (v5.8)',
    help:
      'Finds mmu_notifier_register(), mmu_notifier_get() and mmu_interval_notifier_insert() (or a function that calls one) called on a path ' +
      'where the mmap lock is held (mmap_read_lock/mmap_write_lock, down_read/down_write(&mm->mmap_sem), their killable and trylock forms when ' +
      'they succeed). Those take the mmap lock themselves: the thread deadlocks on itself. The __mmu_notifier_register(), ' +
      'mmu_notifier_get_locked() and mmu_interval_notifier_insert_locked() forms expect it held.',
    limits: 'The mmap lock is tracked within one function; wrappers of the registration are followed one level.',
  },
};
