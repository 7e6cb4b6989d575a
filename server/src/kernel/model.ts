// Kernel API model by version: page-table lock helpers, notifier calls (may they sleep?), *_notify expansions, noreturn calls.
import type { KernelVersion } from '../engine/types';
import type { Settings } from '../config';

export type LockReturns = 'pointer' | 'bool' | 'always' | 'zero';

export interface LockHelper {
  name: string;
  /** Argument index that receives the lock pointer, or 'return' when the helper returns the lock. */
  lockArg: number | 'return';
  /** When the lock is a field of the argument (page_vma_mapped_walk(&pvmw) -> pvmw.ptl). */
  field?: string;
  /** pointer: locked iff non-NULL; bool: iff true; zero: iff 0 returned; always. */
  returns: LockReturns;
  /** page_vma_mapped_walk drops the lock of the previous step before looking for the next one. */
  releasesFirst?: boolean;
  /** The lock is `<argument lockVia>->vm_mm->page_table_lock` (or `mm->page_table_lock` where a local `mm` names it). */
  mmPageTableLockOfArg?: number;
  /** Arguments that, when all non-NULL, make a success (see `returns`) also start an invalidate range for the caller. */
  rangeArgs?: number[];
}

export interface UnlockHelper {
  name: string;
  /** Argument index of the lock; negative: counted from the end (-1 is the last argument). */
  lockArg: number;
  field?: string;
}

export type NotifierRole = 'range_start' | 'range_end' | 'change_pte' | 'other';

export interface NotifierInfo {
  name: string;
  role: NotifierRole;
  maySleep: boolean;
  /** What the call expands to in this version, for messages ("expands to mmu_notifier_invalidate_page"). */
  expansion?: string;
  /** Where the fact came from: built-in model, the audited tree's header, or the user's config. */
  source: string;
  /**
   * Called under the page-table lock by design in this version: before v3.7 every notifier callback ran under
   * rcu_read_lock() and could not sleep (invalidate_page from ptep_clear_flush_notify(), the THP pmdp_*_notify()
   * ranges, hugetlb_cow's range). Reported as a warning: that design kept sleeping subscribers (RDMA ODP) out, and
   * v3.7's series (21a92735f660 SRCU, 2ec74c3) moved these calls out of the lock.
   */
  underPtlByDesign?: boolean;
}

/** Numeric version key: major * 1000 + minor. */
export const vkey = (major: number, minor: number): number => major * 1000 + minor;

export const DEFAULT_VERSION_LABEL = 'unknown (v3.7 to v6.9 semantics)';

const NORETURN = new Set(['BUG', 'panic', 'do_exit', 'make_task_dead', 'kthread_exit', 'unreachable', '__builtin_unreachable', '__builtin_trap',
  'machine_halt', 'machine_power_off', 'machine_restart', 'do_group_exit', 'oops_end', 'die', '__noreturn_fn', 'emergency_restart', 'BUG_NORETURN']);

const BUILTIN_LOCK_HELPERS: LockHelper[] = [
  { name: 'pte_offset_map_lock', lockArg: 3, returns: 'pointer' },
  { name: '__pte_offset_map_lock', lockArg: 3, returns: 'pointer' },
  { name: 'get_locked_pte', lockArg: 2, returns: 'pointer' },
  { name: '__get_locked_pte', lockArg: 2, returns: 'pointer' },
  { name: 'page_check_address', lockArg: 3, returns: 'pointer' },
  { name: '__page_check_address', lockArg: 3, returns: 'pointer' },
  { name: 'page_vma_mapped_walk', lockArg: 0, field: 'ptl', returns: 'bool', releasesFirst: true },
  { name: 'pmd_lock', lockArg: 'return', returns: 'always' },
  { name: 'pud_lock', lockArg: 'return', returns: 'always' },
  { name: 'huge_pte_lock', lockArg: 'return', returns: 'always' },
  { name: 'pmd_trans_huge_lock', lockArg: 'return', returns: 'pointer' },
  { name: '__pmd_trans_huge_lock', lockArg: 'return', returns: 'pointer' },
  { name: 'pud_trans_huge_lock', lockArg: 'return', returns: 'pointer' },
  { name: 'page_check_address_pmd', lockArg: 4, returns: 'pointer' },
  { name: 'pte_alloc_map_lock', lockArg: 3, returns: 'pointer' },
  { name: 'follow_pte', lockArg: 3, returns: 'zero' },
  { name: 'follow_pte_pmd', lockArg: 5, returns: 'zero' },
  { name: 'follow_invalidate_pte', lockArg: 5, returns: 'zero' },
];

const BUILTIN_UNLOCK_HELPERS: UnlockHelper[] = [
  { name: 'pte_unmap_unlock', lockArg: 1 },
  // Declared __releases(ptl) (v5.19 on; defined in mm/filemap.c): waits for the migration with the lock dropped.
  // A negative lockArg counts from the last argument (its signature lost the ptep argument in v6.5).
  { name: 'migration_entry_wait_on_locked', lockArg: -1 },
  { name: 'page_vma_mapped_walk_done', lockArg: 0, field: 'ptl' },
];

/** Generic spinlock calls: they take/release a page-table lock only when the lock expression is one. */
export const SPIN_LOCK = new Set(['spin_lock', 'spin_lock_nested', 'spin_lock_bh', 'spin_lock_irq', 'raw_spin_lock']);
export const SPIN_TRYLOCK = new Set(['spin_trylock']);
export const SPIN_UNLOCK = new Set(['spin_unlock', 'spin_unlock_bh', 'spin_unlock_irq', 'raw_spin_unlock']);
/** Functions that return a page-table lock pointer without taking it. */
export const LOCKPTR = new Set(['pte_lockptr', 'pmd_lockptr', 'pud_lockptr', 'huge_pte_lockptr', 'ptlock_ptr']);

/** True when a normalised lock expression names a page-table lock. */
export function isPtlExpr(key: string): boolean {
  return /(?:^|[.>*])\w*ptl\w*$/.test(key) || /page_table_lock$/.test(key) || /(?:^|[.>*])ptlp?$/.test(key);
}

function builtinNotifiers(v: number, unknown: boolean): NotifierInfo[] {
  const src = 'built-in model';
  const out: NotifierInfo[] = [];
  const add = (name: string, role: NotifierRole, maySleep: boolean, expansion?: string, underPtlByDesign?: boolean): void => {
    out.push({ name, role, maySleep, expansion, source: src, underPtlByDesign });
  };
  const before37 = !unknown && v < vkey(3, 7);
  // Before v3.7 every callback ran under rcu_read_lock() and could not sleep (21a92735f660 moved them to SRCU in
  // v3.7): a notifier call under the PTL was the design then, reported as a warning.
  for (const p of ['', '__']) {
    add(`${p}mmu_notifier_invalidate_range_start`, 'range_start', true, undefined, before37);
    add(`${p}mmu_notifier_invalidate_range_end`, 'range_end', true, undefined, before37);
  }
  add('mmu_notifier_invalidate_range_only_end', 'range_end', true);
  add('mmu_notifier_invalidate_range_start_nonblock', 'range_start', false);
  // invalidate_page: may sleep from v3.7 (2ec74c3 moved it out of the PTL) until its removal in v4.13. Before v3.7 it
  // was called under the PTL by design, which kept sleeping subscribers out: reported as a warning there.
  add('mmu_notifier_invalidate_page', 'other', true, undefined, before37);
  add('__mmu_notifier_invalidate_page', 'other', true, undefined, before37);
  // invalidate_range is called under the PTL by design (v3.19 to v6.5).
  add('mmu_notifier_invalidate_range', 'other', false);
  add('__mmu_notifier_invalidate_range', 'other', false);
  add('mmu_notifier_arch_invalidate_secondary_tlbs', 'other', false);
  if (unknown || v < vkey(6, 10)) {
    add('set_pte_at_notify', 'change_pte', false, 'mmu_notifier_change_pte() + set_pte_at()');
    add('mmu_notifier_change_pte', 'change_pte', false);
    add('__mmu_notifier_change_pte', 'change_pte', false);
  }
  // ptep_clear_flush_notify: invalidate_page before v3.19 (may sleep from v3.7), invalidate_range v3.19..v6.5, plain after.
  if (before37) add('ptep_clear_flush_notify', 'other', true, 'ptep_clear_flush() + mmu_notifier_invalidate_page()', true);
  else if (!unknown && v < vkey(3, 19)) add('ptep_clear_flush_notify', 'other', true, 'ptep_clear_flush() + mmu_notifier_invalidate_page()');
  else if (unknown || v < vkey(6, 6)) add('ptep_clear_flush_notify', 'other', false, 'ptep_clear_flush() + mmu_notifier_invalidate_range()');
  else add('ptep_clear_flush_notify', 'other', false, 'ptep_clear_flush()');
  // Pre-v3.13 THP helpers bracketed themselves with range_start/_end.
  const oldThp = !unknown && v < vkey(3, 13);
  for (const n of ['pmdp_clear_flush_notify', 'pmdp_splitting_flush_notify']) {
    add(n, 'other', oldThp, oldThp ? 'mmu_notifier_invalidate_range_start() + pmdp op + mmu_notifier_invalidate_range_end()' : 'pmdp op + mmu_notifier_invalidate_range()', before37);
  }
  for (const n of ['pmdp_huge_clear_flush_notify', 'pudp_huge_clear_flush_notify', 'pmdp_huge_get_and_clear_notify']) add(n, 'other', false, 'clear + mmu_notifier_invalidate_range()');
  for (const n of ['ptep_clear_young_notify', 'pmdp_clear_young_notify', 'ptep_clear_flush_young_notify', 'pmdp_clear_flush_young_notify',
    'ptep_test_young_notify', 'mmu_notifier_test_young', 'mmu_notifier_clear_young', 'mmu_notifier_clear_flush_young',
    '__mmu_notifier_test_young', '__mmu_notifier_clear_young', '__mmu_notifier_clear_flush_young']) add(n, 'other', false);
  for (const n of ['mmu_notifier_range_init', 'mmu_notifier_range_init_owner', 'mmu_notifier_range_init_migrate', 'mmu_notifier_range_blockable',
    'mmu_notifier_range_update_to_read_only', 'mmu_interval_read_retry', 'mmu_interval_check_retry', 'mmu_interval_set_seq', 'mm_has_notifiers']) add(n, 'other', false);
  for (const n of ['mmu_notifier_register', '__mmu_notifier_register', 'mmu_notifier_unregister', 'mmu_notifier_get', 'mmu_notifier_get_locked',
    'mmu_notifier_put', 'mmu_notifier_synchronize', 'mmu_interval_notifier_insert', 'mmu_interval_notifier_insert_locked',
    'mmu_interval_notifier_remove', 'mmu_interval_read_begin', 'mmu_notifier_release', '__mmu_notifier_release', '__mmu_notifier_mm_destroy']) add(n, 'other', true);
  return out;
}

/** The model the analysis runs against: built-ins for the version, then the tree's header, then the user's config. */
export class KernelModel {
  readonly v: number;
  readonly unknown: boolean;
  readonly label: string;
  /** The version alone ("3.6.5"), for the first line of a message; `label` says where it came from. */
  readonly shortLabel: string;
  private readonly lockHelpers = new Map<string, LockHelper>();
  /** Lock helpers the user configured: their signature is the one given, in every version. */
  private readonly userHelpers = new Set<string>();
  private readonly unlockHelpers = new Map<string, UnlockHelper>();
  private readonly notifiers = new Map<string, NotifierInfo>();
  readonly learnedFrom: string[] = [];
  private namesRe: RegExp | undefined;

  constructor(version: KernelVersion | null, settings?: Settings) {
    this.unknown = !version;
    this.v = version ? vkey(version.major, version.minor) : vkey(6, 1);
    this.label = version ? `${version.major}.${version.minor}${version.sublevel !== undefined ? '.' + version.sublevel : ''} (${version.source})` : DEFAULT_VERSION_LABEL;
    this.shortLabel = version ? `${version.major}.${version.minor}${version.sublevel !== undefined ? '.' + version.sublevel : ''}` : 'version unknown, v3.7 to v6.9 semantics';
    for (const h of BUILTIN_LOCK_HELPERS) this.lockHelpers.set(h.name, h);
    for (const h of BUILTIN_UNLOCK_HELPERS) this.unlockHelpers.set(h.name, h);
    for (const n of builtinNotifiers(this.v, this.unknown)) this.notifiers.set(n.name, n);
    if (settings) {
      for (const h of settings.lockHelpers) {
        this.lockHelpers.set(h.name, { name: h.name, lockArg: h.lockArg, returns: h.returns ?? (h.lockArg === 'return' ? 'always' : 'pointer') });
        this.userHelpers.add(h.name);
      }
      for (const h of settings.unlockHelpers) this.unlockHelpers.set(h.name, { name: h.name, lockArg: h.lockArg });
      for (const n of settings.notifiers) this.notifiers.set(n.name, { name: n.name, role: n.role ?? 'other', maySleep: n.maySleep, source: 'user config' });
    }
  }

  /** True for v3.7..v6.9 (or unknown): the window in which an unbracketed set_pte_at_notify is a bug. */
  get changePteNeedsBracket(): boolean {
    return this.unknown || (this.v >= vkey(3, 7) && this.v < vkey(6, 10));
  }

  /** The version is known and older than major.minor. */
  before(major: number, minor: number): boolean {
    return !this.unknown && this.v < vkey(major, minor);
  }

  get beforeV37(): boolean {
    return !this.unknown && this.v < vkey(3, 7);
  }

  lockHelper(name: string): LockHelper | undefined {
    return this.lockHelpers.get(name);
  }

  /**
   * The lock helper a call uses, with the signature of the call's arity in this version. Versioned signatures:
   * - pmd_trans_huge_lock(pmd, vma): before v3.13 returned 1 with vma->vm_mm->page_table_lock held; from v4.6 it
   *   returns the lock (NULL: not huge). pmd_trans_huge_lock(pmd, vma, &ptl) (v3.13 to v4.5) returned 1 with *ptl held.
   * - follow_pte_pmd(mm, addr, [start, end | range,] &ptep, &pmdp, &ptl) (v4.10 to v5.9), follow_invalidate_pte()
   *   (v5.10 to v5.16), follow_pte(): 0 with *ptl held (the last argument); with range arguments (v4.15 on) a success
   *   also starts the range.
   */
  lockHelperFor(name: string, argc: number): LockHelper | undefined {
    const lh = this.lockHelpers.get(name);
    if (!lh || this.userHelpers.has(name)) return lh;
    if (/^_*pmd_trans_huge_lock$/.test(name)) {
      if (argc === 3) return { name, lockArg: 2, returns: 'bool' };
      if (argc === 2 && this.before(3, 13)) return { name, lockArg: 'return', returns: 'bool', mmPageTableLockOfArg: 1 };
      return lh;
    }
    if ((name === 'follow_pte_pmd' || name === 'follow_invalidate_pte' || name === 'follow_pte') && argc >= 4) {
      const rangeArgs = name === 'follow_pte' ? undefined : argc === 7 ? [2, 3] : argc === 6 ? [2] : undefined;
      return { name, lockArg: argc - 1, returns: 'zero', rangeArgs };
    }
    return lh;
  }
  unlockHelper(name: string): UnlockHelper | undefined {
    return this.unlockHelpers.get(name);
  }
  notifier(name: string): NotifierInfo | undefined {
    return this.notifiers.get(name);
  }
  isNoreturn(name: string): boolean {
    return NORETURN.has(name);
  }

  /**
   * Learns the functions that release a lock their caller holds from `__releases(x)` on prototypes in the audited
   * tree's headers (`void migration_entry_wait_on_locked(swp_entry_t entry, spinlock_t *ptl) __releases(ptl);`):
   * a call of one releases the argument that names the lock, even when its definition is not analysed.
   */
  learnReleases(text: string): number {
    let learned = 0;
    const re = /\b([A-Za-z_]\w*)\s*\(([^;{}()]*)\)\s*(?:__\w+\s*(?:\([^()]*\))?\s*)*__releases\s*\(\s*([^()]+?)\s*\)\s*;/g;
    for (const m of text.matchAll(re)) {
      const [, name, params, lock] = m;
      if (this.lockHelpers.has(name) || this.unlockHelpers.has(name) || this.notifiers.has(name)) continue;
      const names = params.split(',').map((p) => /([A-Za-z_]\w*)\s*(?:\[\s*\])?\s*$/.exec(p.trim())?.[1] ?? '');
      const lockName = lock.replace(/^[*&(]+|\)+$/g, '').split(/->|\./)[0];
      const i = names.indexOf(lockName);
      if (i < 0) continue;
      this.unlockHelpers.set(name, { name, lockArg: i });
      learned++;
    }
    return learned;
  }

  /** Learns the *_notify macro expansions of the audited tree from its include/linux/mmu_notifier.h text. */
  learnHeader(text: string, path: string): void {
    const re = /^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]*\(([^)]*)\)((?:[^\n]*\\\r?\n)*[^\n]*)/gm;
    let learned = 0;
    for (const m of text.matchAll(re)) {
      const name = m[1];
      if (!/_notify$/.test(name) && !/^mmu_notifier_/.test(name)) continue;
      const body = m[3];
      const calls = [...body.matchAll(/\b(__?mmu_notifier_\w+|mmu_notifier_\w+)\s*\(/g)].map((x) => x[1]).filter((c) => c !== name);
      if (calls.length === 0) {
        // A macro that expands to a plain operation (e.g. CONFIG_MMU_NOTIFIER=n stubs): keep the built-in view.
        continue;
      }
      const sleeping = calls.find((c) => this.notifiers.get(c.replace(/^__/, ''))?.maySleep || /invalidate_range_(start|end)$/.test(c));
      const changePte = calls.some((c) => /change_pte$/.test(c));
      const byDesign = calls.some((c) => this.notifiers.get(c.replace(/^__/, ''))?.underPtlByDesign);
      const prev = this.notifiers.get(name);
      if (prev && prev.source === 'user config') continue;
      // With CONFIG_MMU_NOTIFIER there are two definitions; the one with notifier calls is the one that matters.
      this.notifiers.set(name, {
        name,
        role: changePte ? 'change_pte' : prev?.role ?? 'other',
        maySleep: !!sleeping && !changePte,
        expansion: calls.join(' + '),
        source: path,
        underPtlByDesign: byDesign || undefined,
      });
      learned++;
    }
    if (learned) this.learnedFrom.push(`${path} (${learned} macros)`);
    this.namesRe = undefined;
  }

  /** Names whose presence makes a function worth analysing. */
  notifierNames(): string[] {
    return [...this.notifiers.keys()];
  }

  allKnownNames(): string[] {
    return [...this.notifiers.keys(), ...this.lockHelpers.keys(), ...this.unlockHelpers.keys()];
  }

  /** A regex matching any notifier name (word boundaries), used to select functions to analyse. */
  notifierRegex(): RegExp {
    if (!this.namesRe) this.namesRe = new RegExp(`\\b(?:${this.notifierNames().sort((a, b) => b.length - a.length).join('|')})\\b`);
    return this.namesRe;
  }
}
