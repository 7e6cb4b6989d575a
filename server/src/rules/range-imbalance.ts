// Rule range-imbalance: a path leaves with a range it opened still open, or ends a range it never opened.
import { rel, type RawFinding, type Rule } from './types';

export const rangeImbalance: Rule = {
  meta: {
    id: 'range-imbalance',
    title: 'unbalanced invalidate range',
    introducedBy: '6bdb913f0a70 (v3.7) made the bracket mandatory around PTE changes; cf. the goto cleanup chains of do_wp_page',
    help:
      'Finds a path that returns with an mmu_notifier_invalidate_range_start() still open, or calls mmu_notifier_invalidate_range_end() ' +
      'without a matching start. A range left open keeps every subscriber from mapping the range again (KVM\'s mmu_invalidate_in_progress ' +
      'stays raised: the guest spins on faults); an extra end underflows the counter and lets a subscriber map pages that are being changed. ' +
      'Functions that open or close a range for their caller are not reported when their analysed callers do the other half.',
    limits: 'Only the ranges opened in the function or through analysed helpers; conditions understood only for simple local flags and counters.',
  },
  check(ctx) {
    const out: RawFinding[] = [];
    const { fa } = ctx;
    // A range left open on some paths only is a leak of this function (the missing end goes here); an end without a
    // start may be the caller's range, so it waits for the callers' analysis.
    const deferToCallers = fa.summary.rangeDelta < 0;
    // A function that opens (or ends) a range on every path is a begin/end helper by design (e.g. pre_vma/post_vma
    // callbacks called through function pointers): its callers, seen or not, do the other half.
    if (fa.summary.rangeDeltaConsistent) return out;
    // A conditional begin helper (open when it returns 0, closed when it fails): its callers test the result and end the
    // range; they are checked at their own exits.
    const conditionalBegin = !!fa.summary.rangeCond;
    for (const o of fa.observations) {
      if (o.kind === 'exitRangeOpen' && !o.pending) {
        if (conditionalBegin) continue;
        const start = o.ranges[o.ranges.length - 1]?.site;
        out.push({
          rule: 'range-imbalance',
          obs: start ? { ...o, at: start } : o,
          message: `an invalidate range opened here is still open when ${fa.fn.name}() returns on some path`,
          detail: 'mmu_notifier_invalidate_range_end() is missing on that path: subscribers never map the range again (KVM\'s mmu_invalidate_in_progress ' +
            'stays raised and the guest spins on its faults).',
          related: start ? [rel(start, 'range opened here')] : [],
          deferToCallers,
        });
      } else if (o.kind === 'rangeEndUnopened') {
        out.push({
          rule: 'range-imbalance',
          obs: o,
          message: `${o.callee}() ends an invalidate range that is not open on this path`,
          detail: 'An extra end underflows the subscribers\' count of open ranges and lets them map pages that are being changed.',
          related: [],
          deferToCallers,
        });
      }
    }
    return out;
  },
};
