// Finding and reading C files safely: recursion, exclusions, binary / oversized / non-UTF-8 detection, textual pre-filter.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface FileProblem {
  file: string;
  message: string;
  /** The file could not be analysed at all (I/O error), as opposed to a note. */
  fatal: boolean;
}

/** Converts a simple glob (**, *, ?) to a regex over '/'-separated relative paths. */
export function globToRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`(^|/)${re}$`);
}

/** Lists .c and .h files under the given paths. Missing paths are problems; explicit files are taken whatever their extension. */
export function collectFiles(paths: string[], exclude: string[]): { files: string[]; problems: FileProblem[] } {
  const files: string[] = [];
  const problems: FileProblem[] = [];
  const ex = exclude.map(globToRegex);
  const seenDirs = new Set<string>();
  const excluded = (p: string, root: string): boolean => {
    if (ex.length === 0) return false;
    const rel = relative(root, p).split('\\').join('/');
    return ex.some((r) => r.test(rel) || r.test(p));
  };
  const walk = (dir: string, root: string, depth: number): void => {
    if (depth > 64) return;
    // Symlinked directories can loop: remember each directory by device and inode.
    let real: string;
    try {
      const st = statSync(dir);
      real = `${st.dev}:${st.ino}`;
    } catch {
      return;
    }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      problems.push({ file: dir, message: `cannot read directory: ${(e as Error).message}`, fatal: true });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (excluded(p, root)) continue;
      if (e.isDirectory()) walk(p, root, depth + 1);
      else if ((e.isFile() || e.isSymbolicLink()) && /\.[ch]$/.test(e.name)) files.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      problems.push({ file: p, message: `no such file or directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fatal: true });
      continue;
    }
    if (st.isDirectory()) walk(p, p, 0);
    else files.push(p);
  }
  return { files, problems };
}

export interface ReadResult {
  text?: string;
  problem?: FileProblem;
}

/** Reads a file as text; binary, oversized and unreadable files become problems; invalid UTF-8 is read as Latin-1 with a note. */
export function readSource(file: string, maxSize: number, buf?: Buffer): ReadResult {
  let b = buf;
  if (!b) {
    try {
      const st = statSync(file);
      if (st.size > maxSize) return { problem: { file, message: `not analysed: ${st.size} bytes is over the maximum file size of ${maxSize} bytes`, fatal: false } };
      b = readFileSync(file);
    } catch (e) {
      return { problem: { file, message: `cannot read: ${(e as Error).message}`, fatal: true } };
    }
  }
  if (b.length > maxSize) return { problem: { file, message: `not analysed: ${b.length} bytes is over the maximum file size of ${maxSize} bytes`, fatal: false } };
  const probe = b.subarray(0, 8192);
  if (probe.indexOf(0) >= 0) return { problem: { file, message: 'not analysed: binary file (contains NUL bytes)', fatal: false } };
  const text = b.toString('utf8');
  if (text.includes('\uFFFD') && !isValidUtf8(b)) {
    return { text: b.toString('latin1'), problem: { file, message: 'not valid UTF-8: analysed as Latin-1', fatal: false } };
  }
  return { text };
}

function isValidUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

const NOTIF = Buffer.from('notif');
/** Files worth parsing mention a notifier API name or a *_notify macro (version-independent superset of the model). */
export const ROOT_RE = /mmu_notifier_|(?:set_pte_at|flush|young|get_and_clear)_notify\b/;
const LOCK_NEEDLES = ['pte_offset_map_lock', 'page_table_lock', '_lockptr', 'huge_pte_lock', 'pmd_lock', 'pud_lock', 'page_vma_mapped_walk',
  'get_locked_pte', 'trans_huge_lock', 'follow_pte', 'page_check_address'].map((n) => Buffer.from(n));

/** Byte-level pre-filter, one pass over the bytes: can this file mention a notifier at all? */
export function mentionsNotifier(b: Buffer, extra: Buffer[]): boolean {
  return b.indexOf(NOTIF) >= 0 || extra.some((n) => b.indexOf(n) >= 0);
}

/** Does the file mention a page-table lock helper (then it may define a helper that returns with the lock held)? */
export function mentionsLock(b: Buffer, extra: Buffer[]): boolean {
  return LOCK_NEEDLES.some((n) => b.indexOf(n) >= 0) || extra.some((n) => b.indexOf(n) >= 0);
}

/** Both pre-filter answers for one buffer (used by the language server's workspace scan). */
export function quickScan(b: Buffer, extraNames: string[]): { roots: boolean; lockish: boolean } {
  const extra = extraNames.map((n) => Buffer.from(n));
  const roots = mentionsNotifier(b, extra) && ROOT_RE.test(b.toString('latin1'));
  return { roots, lockish: roots || mentionsLock(b, extra) };
}
