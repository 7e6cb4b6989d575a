/* The bracket lives in the caller (as for migrate_vma_insert_page, v4.19 to v6.8):
 * the helper changes the PTE, every caller but one opens the range around the call.
 * The helper itself is not flagged; the caller without a range is, at its call site. */
// kernel-version: 5.10

static void insert_page(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd,
			unsigned long addr, struct page *page)
{
	spinlock_t *ptl;
	pte_t *ptep;

	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte_none(*ptep)) {
		pte_unmap_unlock(ptep, ptl);
		return;
	}
	set_pte_at_notify(mm, addr, ptep, mk_pte(page, vma->vm_page_prot));
	pte_unmap_unlock(ptep, ptl);
}

void migrate_pages_range(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd,
			 unsigned long start, unsigned long end, struct page **pages)
{
	struct mmu_notifier_range range;
	unsigned long addr;
	int i = 0;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, start, end);
	mmu_notifier_invalidate_range_start(&range);
	for (addr = start; addr < end; addr += PAGE_SIZE)
		insert_page(mm, vma, pmd, addr, pages[i++]);
	mmu_notifier_invalidate_range_end(&range);
}

void fill_one_page(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd,
		   unsigned long addr, struct page *page)
{
	insert_page(mm, vma, pmd, addr, page); 
}
