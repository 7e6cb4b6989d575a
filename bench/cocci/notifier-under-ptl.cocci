// Coccinelle baseline for the rule notifier-under-ptl (see server/src/rules and shared/design/hazards.md).
// A may-sleep notifier call (invalidate_range_start / _end / _only_end, invalidate_page) reached on some path
// while a page-table lock taken in the same function is still held: pte_offset_map_lock / get_locked_pte
// (released by pte_unmap_unlock), pmd_lock / pud_lock / huge_pte_lock /
// pmd_trans_huge_lock (they return the lock taken), spin_lock on pte_lockptr / pmd_lockptr / &mm->page_table_lock
// pointers (all released by spin_unlock), the page_vma_mapped_walk() loop body (released by
// page_vma_mapped_walk_done). Intraprocedural only: no "lock held on entry" (__must_hold), no helper that
// returns with the lock held, no version model (the *_notify macros are not expanded,
// so ptep_clear_flush_notify in trees where it still reached a sleeping callback is not seen), no value facts
// (a NULL lock pointer from pte_offset_map_lock / pmd_trans_huge_lock is treated as taken).
// Output: one line per match, "notifier-under-ptl:<file>:<line>:<col>".
// Run: spatch --sp-file notifier-under-ptl.cocci <file | --dir DIR> --no-includes --very-quiet

virtual report

@pte exists@
expression ptl, E;
position p;
@@
(
pte_offset_map_lock(..., &ptl)
|
get_locked_pte(..., &ptl)
)
... when != pte_unmap_unlock(E, ptl)
    when any
(
mmu_notifier_invalidate_range_start@p(...)
|
mmu_notifier_invalidate_range_end@p(...)
|
mmu_notifier_invalidate_range_only_end@p(...)
|
mmu_notifier_invalidate_page@p(...)
)

@take exists@
expression ptl;
position p;
@@
(
ptl = pmd_lock(...)
|
ptl = pud_lock(...)
|
ptl = huge_pte_lock(...)
|
ptl = pmd_trans_huge_lock(...)
|
ptl = pud_trans_huge_lock(...)
)
... when != spin_unlock(ptl)
    when any
(
mmu_notifier_invalidate_range_start@p(...)
|
mmu_notifier_invalidate_range_end@p(...)
|
mmu_notifier_invalidate_range_only_end@p(...)
|
mmu_notifier_invalidate_page@p(...)
)

@spin exists@
expression ptl, E;
position p;
@@
(
ptl = pte_lockptr(...)
|
ptl = pmd_lockptr(...)
|
ptl = huge_pte_lockptr(...)
|
ptl = &E->page_table_lock
)
... when != ptl = E
(
spin_lock(ptl);
|
spin_lock_nested(ptl, ...);
)
... when != spin_unlock(ptl)
    when any
(
mmu_notifier_invalidate_range_start@p(...)
|
mmu_notifier_invalidate_range_end@p(...)
|
mmu_notifier_invalidate_range_only_end@p(...)
|
mmu_notifier_invalidate_page@p(...)
)

@ptlock exists@
expression mm;
position p;
@@
spin_lock(&mm->page_table_lock);
... when != spin_unlock(&mm->page_table_lock)
    when any
(
mmu_notifier_invalidate_range_start@p(...)
|
mmu_notifier_invalidate_range_end@p(...)
|
mmu_notifier_invalidate_range_only_end@p(...)
|
mmu_notifier_invalidate_page@p(...)
)

@pvmw exists@
expression W;
position p;
@@
while (page_vma_mapped_walk(W)) {
... when != page_vma_mapped_walk_done(W)
    when any
(
mmu_notifier_invalidate_range_start@p(...)
|
mmu_notifier_invalidate_range_end@p(...)
|
mmu_notifier_invalidate_range_only_end@p(...)
|
mmu_notifier_invalidate_page@p(...)
)
... when any
}

@script:python depends on pte@
p << pte.p;
@@
print("notifier-under-ptl:%s:%s:%s" % (p[0].file, p[0].line, p[0].column))

@script:python depends on take@
p << take.p;
@@
print("notifier-under-ptl:%s:%s:%s" % (p[0].file, p[0].line, p[0].column))

@script:python depends on spin@
p << spin.p;
@@
print("notifier-under-ptl:%s:%s:%s" % (p[0].file, p[0].line, p[0].column))

@script:python depends on ptlock@
p << ptlock.p;
@@
print("notifier-under-ptl:%s:%s:%s" % (p[0].file, p[0].line, p[0].column))

@script:python depends on pvmw@
p << pvmw.p;
@@
print("notifier-under-ptl:%s:%s:%s" % (p[0].file, p[0].line, p[0].column))
