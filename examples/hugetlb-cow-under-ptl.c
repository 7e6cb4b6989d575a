/* hugetlb_cow before 2ec74c3 (v3.6): range_start called with mm->page_table_lock
 * held. Flagged. */
// kernel-version: 3.6

static int hugetlb_cow(struct mm_struct *mm, struct vm_area_struct *vma,
		       unsigned long address, pte_t *ptep, struct page *new_page)
{
	unsigned long mmun_start = address & huge_page_mask(h);
	unsigned long mmun_end = mmun_start + huge_page_size(h);

	spin_lock(&mm->page_table_lock);
	mmu_notifier_invalidate_range_start(mm, mmun_start, mmun_end); 
	huge_ptep_clear_flush(vma, address, ptep);
	set_huge_pte_at(mm, address, ptep, make_huge_pte(vma, new_page, 1));
	mmu_notifier_invalidate_range_end(mm, mmun_start, mmun_end); 
	spin_unlock(&mm->page_table_lock);
	return 0;
}
