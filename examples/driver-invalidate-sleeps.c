/* A driver's MMU notifier (modelled on GPU userptr notifiers of v5.x, written for the examples): its
 * invalidate_range_start takes a mutex without testing whether the range may block (the OOM reaper's ranges
 * may not), and its mapping path drops the result of the interval retry test. */
// kernel-version: 5.10

struct gpu_mn {
	struct mmu_notifier mn;
	struct mutex lock;
	struct rb_root_cached objects;
};

static int gpu_mn_invalidate_range_start(struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
	struct gpu_mn *gmn = container_of(mn, struct gpu_mn, mn);

	mutex_lock(&gmn->lock);
	gpu_mn_unmap_objects(gmn, range->start, range->end);
	mutex_unlock(&gmn->lock);
	return 0;
}

static const struct mmu_notifier_ops gpu_mn_ops = {
	.invalidate_range_start = gpu_mn_invalidate_range_start,
};

struct gpu_userptr {
	struct mmu_interval_notifier notifier;
	struct mutex lock;
};

static bool gpu_userptr_invalidate(struct mmu_interval_notifier *mni, const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct gpu_userptr *u = container_of(mni, struct gpu_userptr, notifier);

	if (!mmu_notifier_range_blockable(range))
		return false;
	mutex_lock(&u->lock);
	mmu_interval_set_seq(mni, cur_seq);
	gpu_userptr_unmap(u);
	mutex_unlock(&u->lock);
	return true;
}

static const struct mmu_interval_notifier_ops gpu_userptr_ops = {
	.invalidate = gpu_userptr_invalidate,
};

static int gpu_userptr_map(struct gpu_userptr *u)
{
	unsigned long seq = mmu_interval_read_begin(&u->notifier);

	if (gpu_userptr_get_pages(u))
		return -EFAULT;
	mutex_lock(&u->lock);
	mmu_interval_read_retry(&u->notifier, seq);
	gpu_userptr_program(u);
	mutex_unlock(&u->lock);
	return 0;
}
