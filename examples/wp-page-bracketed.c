/* The same path after 6bdb913f0a70: the range is opened before the lock is
 * taken and closed after it is released, guarded by an mmun_called flag
 * because only the copy path opens it. Expected: silent. */
// kernel-version: 3.7

static int do_wp_page_copy(struct mm_struct *mm, struct vm_area_struct *vma,
			   unsigned long address, pte_t *page_table, pmd_t *pmd,
			   spinlock_t *ptl, pte_t orig_pte, int reuse)
{
	struct page *old_page, *new_page;
	pte_t entry;
	unsigned long mmun_start = 0, mmun_end = 0;
	bool mmun_called = false;

	if (reuse)
		goto unlock;
	new_page = alloc_page_vma(GFP_HIGHUSER_MOVABLE, vma, address);
	if (!new_page)
		goto oom;

	mmun_start = address & PAGE_MASK;
	mmun_end = mmun_start + PAGE_SIZE;
	mmun_called = true;
	mmu_notifier_invalidate_range_start(mm, mmun_start, mmun_end);

	page_table = pte_offset_map_lock(mm, pmd, address, &ptl);
	if (likely(pte_same(*page_table, orig_pte))) {
		entry = mk_pte(new_page, vma->vm_page_prot);
		ptep_clear_flush(vma, address, page_table);
		set_pte_at_notify(mm, address, page_table, entry);
		update_mmu_cache(vma, address, page_table);
	}
unlock:
	pte_unmap_unlock(page_table, ptl);
	if (mmun_called)
		mmu_notifier_invalidate_range_end(mm, mmun_start, mmun_end);
	return 0;
oom:
	return VM_FAULT_OOM;
}
