/* Modelled on the v3.6 copy-on-write path before 6bdb913f0a70: the PTE is
 * changed with set_pte_at_notify() and no invalidate range around it. */
// kernel-version: 3.7

static int do_wp_page_copy(struct mm_struct *mm, struct vm_area_struct *vma,
			   unsigned long address, pte_t *page_table, pmd_t *pmd,
			   spinlock_t *ptl, pte_t orig_pte)
{
	struct page *old_page, *new_page;
	pte_t entry;

	new_page = alloc_page_vma(GFP_HIGHUSER_MOVABLE, vma, address);
	if (!new_page)
		goto oom;
	copy_user_highpage(new_page, old_page, address, vma);

	page_table = pte_offset_map_lock(mm, pmd, address, &ptl);
	if (likely(pte_same(*page_table, orig_pte))) {
		entry = mk_pte(new_page, vma->vm_page_prot);
		ptep_clear_flush(vma, address, page_table);
		set_pte_at_notify(mm, address, page_table, entry); 
		update_mmu_cache(vma, address, page_table);
		new_page = old_page;
	}
	pte_unmap_unlock(page_table, ptl);
	return 0;
oom:
	return VM_FAULT_OOM;
}
