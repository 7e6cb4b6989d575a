// Kernel-version facts the model needs (from hazards.md): change_pte fallback, KVM's change_pte behaviour, invalidate_range.
import type { KvmMode } from './types';

export type Version = [number, number];

/** Parses "6.1", "v4.12", "5.4.3"; unknown or empty input gives the default 6.1 (inside v3.7..v6.9, where both rules apply). */
export function parseVersion(text: string | undefined): Version {
  const m = /^v?(\d+)\.(\d+)/.exec((text ?? '').trim());
  if (!m) return [6, 1];
  return [Number(m[1]), Number(m[2])];
}

export function versionText(v: Version): string {
  return `${v[0]}.${v[1]}`;
}

export function atLeast(v: Version, major: number, minor: number): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

/** Before v3.7, change_pte fell back to invalidate_page for subscribers without change_pte. */
export function changePteFallsBack(v: Version): boolean {
  return !atLeast(v, 3, 7);
}

/** v6.10 removed change_pte: set_pte_at_notify is plain set_pte_at. */
export function changePteRemoved(v: Version): boolean {
  return atLeast(v, 6, 10);
}

/** invalidate_range (secondary TLB flush under the PTL, also called from range_end) exists from v3.19. */
export function hasInvalidateRange(v: Version): boolean {
  return atLeast(v, 3, 19);
}

/**
 * KVM's change_pte behaviour by version. The boundaries are approximate (x86/common code):
 * before v5.13 it updated existing shadow entries; v5.13 added a WARN when no invalidation was
 * in progress; from v5.14 it returns early when the in-progress count is 0. Use kvmMode to override.
 */
export function kvmModeFor(v: Version): KvmMode {
  if (!atLeast(v, 5, 13)) return 'update-existing';
  if (!atLeast(v, 5, 14)) return 'warn-only';
  return 'skip-if-count-0';
}
