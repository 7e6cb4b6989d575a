// Coccinelle baseline for the rule unbracketed-change-pte (see server/src/rules and shared/design/hazards.md).
// A set_pte_at_notify() / mmu_notifier_change_pte() that some path from the function's start reaches with no
// mmu_notifier_invalidate_range_start*() before it, or from which some path reaches the function's exit with no
// mmu_notifier_invalidate_range_end / _only_end after it. Intraprocedural only (no "bracket in the caller" or
// "helper that returns with the range open"), no value facts (no mmun_called / mmun_end > mmun_start pruning).
// Output: one line per match, "unbracketed-change-pte:<file>:<line>:<col>".
// Run: spatch --sp-file unbracketed-change-pte.cocci <file | --dir DIR> --no-includes --very-quiet

virtual report

@before exists@
position p;
@@
... when != mmu_notifier_invalidate_range_start(...)
    when != mmu_notifier_invalidate_range_start_nonblock(...)
    when != __mmu_notifier_invalidate_range_start(...)
(
set_pte_at_notify@p(...)
|
mmu_notifier_change_pte@p(...)
)

@after exists@
position p;
@@
(
set_pte_at_notify@p(...)
|
mmu_notifier_change_pte@p(...)
)
... when != mmu_notifier_invalidate_range_end(...)
    when != mmu_notifier_invalidate_range_only_end(...)
    when != __mmu_notifier_invalidate_range_end(...)

@script:python depends on before@
p << before.p;
@@
print("unbracketed-change-pte:%s:%s:%s" % (p[0].file, p[0].line, p[0].column))

@script:python depends on after@
p << after.p;
@@
print("unbracketed-change-pte:%s:%s:%s" % (p[0].file, p[0].line, p[0].column))
