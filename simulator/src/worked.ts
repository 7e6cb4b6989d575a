// The three worked traces of hazards.md as synthetic witness paths, so tests, the benchmark and demos can run them.
import type { PathEvent, SimulateOptions } from './types';

export interface WorkedTrace {
  rule: string;
  function: string;
  file: string;
  line: number;
  path: PathEvent[];
  opts: SimulateOptions;
  title: string;
}

function ev(file: string, line: number, event: PathEvent['event'], extra: Partial<PathEvent> = {}): PathEvent {
  return { file, line, column: 2, event, ...extra };
}

/** 1: unbracketed KSM merge; 2: range_start under the PTL (ODP-like); 3: two open ranges, KVM-like in install mode. */
export function workedTrace(n: 1 | 2 | 3): WorkedTrace {
  if (n === 1) {
    const f = 'mm/ksm.c';
    return {
      title: 'Unbracketed KSM merge, non-pinning subscriber without change_pte',
      rule: 'unbracketed-change-pte',
      function: 'replace_page',
      file: f,
      line: 1130,
      path: [
        ev(f, 1100, 'entry', { detail: 'replace_page' }),
        ev(f, 1120, 'lock', { lock: 'ptl', detail: 'pte_offset_map_lock' }),
        ev(f, 1130, 'set_pte_at_notify', { detail: 'set_pte_at_notify(mm, addr, ptep, mk_pte(kpage, vma->vm_page_prot))' }),
        ev(f, 1140, 'unlock', { lock: 'ptl', detail: 'pte_unmap_unlock' }),
        ev(f, 1145, 'return'),
      ],
      opts: { subscriber: 'device', kernelVersion: '6.1', pattern: 'ksm' },
    };
  }
  if (n === 2) {
    const f = 'mm/hugetlb.c';
    return {
      title: 'ODP-like subscriber, range_start under the page-table lock',
      rule: 'notifier-under-ptl',
      function: 'hugetlb_cow',
      file: f,
      line: 2610,
      path: [
        ev(f, 2590, 'entry', { detail: 'hugetlb_cow' }),
        ev(f, 2600, 'lock', { lock: 'ptl', detail: 'spin_lock(ptl)' }),
        ev(f, 2610, 'range_start', { callee: 'mmu_notifier_invalidate_range_start', maySleep: true }),
        ev(f, 2620, 'set_pte_at_notify', { detail: 'set_huge_pte_at(mm, address, ptep, make_huge_pte(vma, new_page, 1))' }),
        ev(f, 2630, 'range_end', { callee: 'mmu_notifier_invalidate_range_end', maySleep: true }),
        ev(f, 2640, 'unlock', { lock: 'ptl', detail: 'spin_unlock(ptl)' }),
        ev(f, 2650, 'return'),
      ],
      opts: { subscriber: 'odp', kernelVersion: '6.1', pattern: 'cow' },
    };
  }
  const f = 'mm/memory.c';
  return {
    title: 'Two open ranges, KVM-like subscriber whose change_pte installs',
    rule: 'unbracketed-change-pte',
    function: 'wp_page_copy',
    file: f,
    line: 3150,
    path: [
      ev(f, 3100, 'entry', { detail: 'wp_page_copy' }),
      ev(f, 3120, 'range_start', { callee: 'mmu_notifier_invalidate_range_start', maySleep: true }),
      ev(f, 3130, 'lock', { lock: 'vmf->ptl', detail: 'pte_offset_map_lock' }),
      ev(f, 3140, 'clear_flush_notify', { detail: 'ptep_clear_flush_notify(vma, vmf->address, vmf->pte)' }),
      ev(f, 3150, 'set_pte_at_notify', { detail: 'set_pte_at_notify(mm, vmf->address, vmf->pte, entry)' }),
      ev(f, 3160, 'unlock', { lock: 'vmf->ptl', detail: 'pte_unmap_unlock' }),
      ev(f, 3170, 'range_end', { callee: 'mmu_notifier_invalidate_range_end', maySleep: true }),
      ev(f, 3180, 'return'),
    ],
    opts: { subscriber: 'kvm', kernelVersion: '6.1', kvmMode: 'install', pattern: 'cow', concurrentInvalidation: true },
  };
}
