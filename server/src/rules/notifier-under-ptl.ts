// Rule notifier-under-ptl: a notifier call that may sleep, made while a page-table spinlock is held.
import { rel, type RawFinding, type Rule } from './types';

export const notifierUnderPtl: Rule = {
  meta: {
    id: 'notifier-under-ptl',
    title: 'sleeping notifier call under the page-table lock',
    introducedBy: '2ec74c3 "mm: move all mmu notifier invocations to be done outside the PT lock" (v3.7); 369ea8242c0f "mm/rmap: update to new mmu_notifier semantic v2" (v4.13)',
    help:
      'Finds mmu_notifier_invalidate_range_start()/_end(), invalidate_page (v3.7 to v4.12) and *_notify macros that expand to them, called ' +
      'on some path while a page-table spinlock is held (pte_offset_map_lock, page_vma_mapped_walk, pmd_lock, huge_pte_lock, ' +
      'mm->page_table_lock, ...). Those callbacks may sleep (RDMA ODP waits for the device, HMM interval notifiers take sleeping locks): ' +
      'with CONFIG_DEBUG_ATOMIC_SLEEP the kernel reports "sleeping function called from invalid context", a sleeping callback gives ' +
      '"scheduling while atomic", and a callback waiting for a thread that spins on the same PTL deadlocks. Silent on the calls allowed under ' +
      'the lock: set_pte_at_notify/change_pte, *_young_notify, mmu_notifier_invalidate_range() and ptep_clear_flush_notify() (v3.19 to v6.5), ' +
      'mmu_notifier_range_init().',
    limits:
      'Knows the lock helpers of the model and of the config; a lock taken through a function pointer or an unknown wrapper is not seen. ' +
      'spin_lock() counts only when its lock expression looks like a page-table lock (ptl, page_table_lock, a pte_lockptr() result). ' +
      'A lock that a callee returns held under a name the caller cannot release it by is not reported as held.',
  },
  check(ctx) {
    const out: RawFinding[] = [];
    const { fa, model } = ctx;
    for (const o of fa.observations) {
      if (o.kind !== 'sleeping') continue;
      // A lock a callee returned without a name the caller can release it by ("opaque"): whether it is still held
      // cannot be decided, so it is not reported as held.
      const locks = o.locks.filter((l) => !l.key.startsWith('opaque:'));
      if (locks.length === 0) continue;
      const lock = locks[locks.length - 1];
      const callee = o.via ? `${o.via}() (which calls ${o.callee}())` : `${o.callee}()`;
      const exp = o.notifier?.expansion ? ` (${o.notifier.expansion})` : '';
      const byDesign = (o.notifier ?? (o.callee ? model.notifier(o.callee) : undefined))?.underPtlByDesign;
      out.push({
        rule: 'notifier-under-ptl',
        obs: o,
        message: byDesign
          ? `${callee}${exp} under the page-table lock ${lock.key}: the design before v3.7 (kernel ${model.shortLabel})`
          : `${callee}${exp} may sleep but is called with the page-table lock ${lock.key} held (kernel ${model.shortLabel})`,
        detail: byDesign
          ? `Before v3.7 this was the design: notifier callbacks ran under rcu_read_lock() and could not sleep, which is what keeps a ` +
            `subscriber that sleeps (RDMA ODP waits for the device) from working on this tree. v3.7's series moved them to SRCU (21a92735f660) ` +
            `and, with "mm: move all mmu notifier invocations to be done outside the PT lock" (2ec74c3), out of the lock. It is a bug once ` +
            `that series is backported. Kernel ${model.label}.`
          : `Sleeping in atomic context: with CONFIG_DEBUG_ATOMIC_SLEEP "BUG: sleeping function called from invalid context"; a subscriber that ` +
            `sleeps gives "scheduling while atomic", or deadlocks against a thread spinning on the same lock. Kernel ${model.label}` +
            `${o.notifier?.expansion ? `, where ${o.callee}() expands to ${o.notifier.expansion}` : ''}.`,
        downgrade: byDesign || undefined,
        related: locks.map((l) => rel(l.site, l.onEntry ? `${l.key} held on entry` : `page-table lock ${l.key} taken here`)),
      });
    }
    return out;
  },
};
