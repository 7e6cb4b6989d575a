// Kernel version of the audited tree: --kernel-version, or the top-level Makefile found above the scanned paths.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { KernelVersion } from '../engine/types';

/** Parses "6.1", "v6.1.55", "3.7-rc1" into a version. */
export function parseVersion(s: string, source: string): KernelVersion | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(s.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), sublevel: m[3] !== undefined ? Number(m[3]) : undefined, source };
}

/** Reads VERSION/PATCHLEVEL/SUBLEVEL from a kernel Makefile's text. */
export function versionFromMakefile(text: string, source: string): KernelVersion | null {
  const get = (k: string): number | undefined => {
    const m = new RegExp(`^${k}\\s*=\\s*(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const major = get('VERSION');
  const minor = get('PATCHLEVEL');
  if (major === undefined || minor === undefined) return null;
  return { major, minor, sublevel: get('SUBLEVEL'), source };
}

export interface TreeInfo {
  root: string;
  version: KernelVersion | null;
  /** include/linux/mmu_notifier.h of the tree, when present. */
  notifierHeader?: string;
}

/** Walks up from `path` to the kernel tree root (a Makefile with VERSION/PATCHLEVEL). */
export function findKernelTree(path: string): TreeInfo | null {
  let dir = resolve(path);
  try {
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch {
    dir = dirname(dir);
  }
  for (let i = 0; i < 40; i++) {
    const mk = join(dir, 'Makefile');
    if (existsSync(mk)) {
      try {
        const text = readFileSync(mk, 'utf8').slice(0, 4096);
        const v = versionFromMakefile(text, `Makefile ${mk}`);
        if (v) {
          const h = join(dir, 'include/linux/mmu_notifier.h');
          return { root: dir, version: v, notifierHeader: existsSync(h) ? h : undefined };
        }
      } catch {
        /* unreadable Makefile: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

export function versionLabel(v: KernelVersion | null): string {
  if (!v) return 'unknown (v3.7 to v6.9 semantics)';
  return `${v.major}.${v.minor}${v.sublevel !== undefined ? '.' + v.sublevel : ''}`;
}

/**
 * The headers of a kernel tree that declare lock-releasing helpers with `__releases()` (mm's page-table and migration
 * helpers), relative to the directory of include/linux/mmu_notifier.h. A handful of small files: cheap to read.
 */
export const LOCK_HEADERS = ['swapops.h', 'mm.h', 'migrate.h', 'huge_mm.h', 'hugetlb.h', 'rmap.h', 'pagemap.h', 'pgtable.h', '../../mm/internal.h'];

/** Reads the lock headers next to a tree's mmu_notifier.h (missing ones are skipped). */
export function readLockHeaders(notifierHeader: string): Array<{ text: string; path: string }> {
  const dir = notifierHeader.replace(/[\\/][^\\/]+$/, '');
  const out: Array<{ text: string; path: string }> = [];
  for (const name of LOCK_HEADERS) {
    const path = `${dir}/${name}`;
    try {
      out.push({ text: readFileSync(path, 'utf8'), path });
    } catch {
      /* not in this version */
    }
  }
  return out;
}
