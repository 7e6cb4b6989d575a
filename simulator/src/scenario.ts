// Scenario defaults derived from the finding's rule, the kernel version and the options: subscribers, concurrent actors, bound.
import type { ActorSpec, FindingInput, KvmMode, Pattern, Scenario, SimulateOptions, SubscriberKind, SubscriberSpec } from './types';
import { buildSubscriberScenario, isSubscriberRule } from './subscriber';
import { changePteFallsBack, changePteRemoved, hasInvalidateRange, kvmModeFor, parseVersion, versionText, type Version } from './version';

export const DEFAULT_BOUND = 60;
export const DEFAULT_MAX_STATES = 200000;

function subscriberSpec(kind: SubscriberKind, v: Version, kvmMode: KvmMode | undefined): SubscriberSpec {
  switch (kind) {
    case 'kvm':
      return {
        id: 'kvm',
        kind,
        label: 'KVM-like (has change_pte)',
        hasChangePte: !changePteRemoved(v),
        pins: false,
        kvmMode: kvmMode ?? kvmModeFor(v),
      };
    case 'odp':
      return {
        id: 'odp',
        kind,
        label: 'ODP-like (no change_pte; range_start sleeps on its rwsem; pins pages)',
        hasChangePte: false,
        pins: true,
        sleepingLock: 'umem_rwsem',
      };
    case 'sva':
      return { id: 'sva', kind, label: 'SVA-like (only invalidate_range, under the PTL)', hasChangePte: false, pins: false };
    case 'device':
      return { id: 'dev', kind, label: 'non-pinning device without change_pte', hasChangePte: false, pins: false };
  }
}

/** Names what the flagged code does, from its function and the calls on its path (a label; the model uses Pattern). */
export function patternLabel(f: FindingInput): string {
  const rules: Array<[RegExp, string]> = [
    [/collapse|khugepaged/, 'THP collapse'],
    [/uprobe|__replace_page/, 'uprobes text-page replacement'],
    [/ksm|write_protect_page|replace_page|merge/, 'KSM merge'],
    [/huge_pmd_wp|hugetlb_cow|hugetlb_wp/, 'huge-page copy-on-write'],
    [/split_huge/, 'THP split'],
    [/wp_page|cow\b|do_wp/, 'copy-on-write'],
    [/try_to_unmap|unmap_one|zap_/, 'unmap (rmap walk)'],
    [/mkclean/, 'write-protect for writeback (mkclean)'],
    [/migrat/, 'page migration'],
    [/mremap|move_page_tables|move_huge/, 'mremap page-table move'],
    [/mprotect|change_prot/, 'mprotect'],
  ];
  // The function and file say what the code does; the calls on the path only when they do not.
  const own = `${f.function ?? ''} ${f.file ?? ''}`.toLowerCase();
  const calls = f.path.map((e) => `${e.via ?? ''} ${e.callee ?? ''}`).join(' ').toLowerCase();
  for (const text of [own, calls]) for (const [re, label] of rules) if (re.test(text)) return label;
  return 'PTE change';
}

/** Guesses the page-replacement pattern from the function name and the path's details. */
function guessPattern(f: FindingInput): Pattern {
  const text = `${f.function ?? ''} ${f.path.map((e) => `${e.detail ?? ''} ${e.via ?? ''}`).join(' ')}`.toLowerCase();
  if (/ksm|replace_page|write_protect_page|merge/.test(text)) return 'ksm';
  if (/wp_page|cow|copy|replace_page/.test(text)) return 'cow';
  return 'ksm';
}

export function buildScenario(f: FindingInput, opts: SimulateOptions = {}): Scenario {
  if (isSubscriberRule(String(f.rule))) return buildSubscriberScenario(f, opts);
  const v = parseVersion(opts.kernelVersion);
  const rule = String(f.rule);
  const choice = opts.subscriber ?? (rule === 'notifier-under-ptl' ? 'odp' : 'device');
  // SVA-like subscribers (only invalidate_range) exist from v3.19; before that "all" means KVM-like and ODP-like.
  const kinds: SubscriberKind[] = choice === 'all' ? (hasInvalidateRange(v) ? ['kvm', 'odp', 'sva'] : ['kvm', 'odp']) : [choice];
  const subscribers = kinds.map((k) => subscriberSpec(k, v, opts.kvmMode));
  const underPtl = rule === 'notifier-under-ptl';
  const invalidation = opts.concurrentInvalidation ?? choice === 'kvm';
  const multi = subscribers.length > 1;
  const actors: ActorSpec[] = [];
  if (invalidation) actors.push({ id: 'T2', kind: 'invalidation', label: 'T2: another invalidation (munmap-like)' });
  actors.push({ id: 'T0', kind: 'path', label: `T0: the flagged path${f.function ? ` (${f.function})` : ''}` });
  for (const s of subscribers) {
    const id = multi ? `T1-${s.id}` : 'T1';
    const what = s.kind === 'sva' ? 'IOMMU page-table walk (IOTLB fill)' : s.kind === 'kvm' ? 'vCPU fault (seq/count retry)' : 'device fault handler (seq/count retry)';
    actors.push({ id, kind: 'fault', label: `${id}: ${s.id} ${what}`, subscriber: s.id });
  }
  if (!underPtl || invalidation) {
    for (const s of subscribers) {
      const id = multi ? `DEV-${s.id}` : 'DEV';
      actors.push({ id, kind: 'device', label: `${id}: ${s.kind === 'kvm' ? 'guest' : 'device'} access through ${s.id}'s shadow PTE`, subscriber: s.id });
    }
    actors.push({ id: 'ALLOC', kind: 'allocator', label: 'ALLOC: page allocator (hands freed pages to another process)' });
  }
  const notes: string[] = [];
  if (changePteRemoved(v)) notes.push(`v${versionText(v)}: change_pte no longer exists (removed in v6.10); set_pte_at_notify is plain set_pte_at.`);
  else if (changePteFallsBack(v)) notes.push(`v${versionText(v)}: change_pte falls back to invalidate_page for subscribers without change_pte (before v3.7).`);
  else notes.push(`v${versionText(v)}: subscribers without change_pte learn about a PTE change only through the range bracket (v3.7 to v6.9).`);
  for (const s of subscribers) if (s.kvmMode) notes.push(`KVM change_pte behaviour: ${s.kvmMode}${opts.kvmMode ? ' (forced)' : ' (from the kernel version)'}.`);
  if (kinds.includes('sva') && !hasInvalidateRange(v)) notes.push('invalidate_range does not exist before v3.19: the SVA-like subscriber is never flushed.');
  return {
    rule,
    kernelVersion: versionText(v),
    pattern: opts.pattern ?? guessPattern(f),
    patternLabel: patternLabel(f),
    subscribers,
    actors,
    initialShadow: !underPtl,
    bound: Math.max(1, Math.floor(opts.bound ?? DEFAULT_BOUND)),
    maxStates: Math.max(1, Math.floor(opts.maxStates ?? DEFAULT_MAX_STATES)),
    notes,
  };
}
