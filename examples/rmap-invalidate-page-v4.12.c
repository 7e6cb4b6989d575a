/* v4.12 (c7ab0d2fdc84) called invalidate_page inside the page_vma_mapped_walk()
 * loop, with pvmw.ptl held. Fixed in v4.13. Flagged for 4.12. */
// kernel-version: 4.12

static int page_mkclean_one(struct page *page, struct vm_area_struct *vma,
			    unsigned long address, void *arg)
{
	struct page_vma_mapped_walk pvmw = {
		.page = page,
		.vma = vma,
		.address = address,
		.flags = PVMW_SYNC,
	};
	int *cleaned = arg;

	while (page_vma_mapped_walk(&pvmw)) {
		pte_t entry;

		if (!pte_dirty(*pvmw.pte) && !pte_write(*pvmw.pte))
			continue;
		flush_cache_page(vma, address, pte_pfn(*pvmw.pte));
		entry = ptep_clear_flush(vma, address, pvmw.pte);
		entry = pte_wrprotect(entry);
		set_pte_at(vma->vm_mm, address, pvmw.pte, entry);
		mmu_notifier_invalidate_page(vma->vm_mm, address); 
		(*cleaned)++;
	}
	return true;
}
