// Finding and reading C files safely: recursion, exclusions, binary / oversized / non-UTF-8 detection, textual pre-filter.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface FileProblem {
  file: string;
  message: string;
  /** The file could not be analysed at all (I/O error), as opposed to a note. */
  fatal: boolean;
}

/** Why a file was not analysed (the CLI's `skipped` list). A file read as Latin-1 is analysed: it is not skipped. */
export type SkipReason = 'binary' | 'too-big' | 'undecodable' | 'unreadable';

/** The messages of files that are not analysed; skipReason() recognises them (the audit keeps only the message). */
const tooBigMessage = (size: number, max: number): string => `not analysed: ${size} bytes is over the maximum file size of ${max} bytes`;
const BINARY_MESSAGE = 'not analysed: binary file (contains NUL bytes)';
const utf16Message = (enc: string): string => `not analysed: ${enc} text (byte-order mark); only UTF-8 and Latin-1 are decoded`;

/** The reason a problem message means "this file was not analysed", or undefined for notes and argument errors. */
export function skipReason(message: string): SkipReason | undefined {
  if (message === BINARY_MESSAGE) return 'binary';
  if (/^not analysed: \d+ bytes is over the maximum file size/.test(message)) return 'too-big';
  if (/^not analysed: UTF-(16|32)(LE|BE) text/.test(message)) return 'undecodable';
  if (/^cannot read( directory)?:/.test(message)) return 'unreadable';
  return undefined;
}

/** UTF-16/UTF-32 byte-order marks (checked longest first): such text is neither UTF-8 nor Latin-1. */
function unicodeBom(b: Buffer): string | undefined {
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return 'UTF-32LE';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return 'UTF-32BE';
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'UTF-16LE';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'UTF-16BE';
  return undefined;
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

/** Walks the .c and .h files under `dir` (dot-entries and excluded paths skipped, symlink loops cut); `visit` returns
 *  false to stop the walk. Directories that cannot be read are problems. */
function walkCFiles(top: string, ex: RegExp[], problems: FileProblem[], visit: (file: string) => boolean, seenDirs = new Set<string>()): void {
  const excluded = (p: string, root: string): boolean => {
    if (ex.length === 0) return false;
    const rel = relative(root, p).split('\\').join('/');
    return ex.some((r) => r.test(rel) || r.test(p));
  };
  let stopped = false;
  const walk = (dir: string, root: string, depth: number): void => {
    if (depth > 64 || stopped) return;
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
      if (stopped) return;
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (excluded(p, root)) continue;
      if (e.isDirectory()) walk(p, root, depth + 1);
      else if ((e.isFile() || e.isSymbolicLink()) && /\.[ch]$/.test(e.name)) {
        if (!visit(p)) stopped = true;
      }
    }
  };
  walk(top, top, 0);
}

/** Lists .c and .h files under the given paths. Missing paths are problems; explicit files are taken whatever their extension. */
export function collectFiles(paths: string[], exclude: string[]): { files: string[]; problems: FileProblem[] } {
  const files: string[] = [];
  const problems: FileProblem[] = [];
  const ex = exclude.map(globToRegex);
  const seenDirs = new Set<string>();
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      problems.push({ file: p, message: `no such file or directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fatal: true });
      continue;
    }
    if (st.isDirectory()) {
      walkCFiles(p, ex, problems, (f) => {
        files.push(f);
        return true;
      }, seenDirs);
    } else files.push(p);
  }
  return { files, problems };
}

/** Does the directory hold at least one .c or .h file that collectFiles would list (stops at the first)? */
export function hasCFile(dir: string, exclude: string[]): boolean {
  let found = false;
  walkCFiles(dir, exclude.map(globToRegex), [], () => {
    found = true;
    return false;
  });
  return found;
}

/**
 * Checks a file named on the command line without reading all of it: a problem when it will not be analysed
 * (not a regular file, unreadable, over the size limit, binary, UTF-16/32), undefined when it will be read.
 * The same tests as readSource, on the size and the first 8 KiB.
 */
export function probeFile(file: string, maxSize: number): FileProblem | undefined {
  let fd: number | undefined;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { file, message: 'cannot read: not a regular file', fatal: true };
    if (st.size > maxSize) return { file, message: tooBigMessage(st.size, maxSize), fatal: false };
    fd = openSync(file, 'r');
    const head = Buffer.alloc(Math.min(8192, st.size));
    const n = readSync(fd, head, 0, head.length, 0);
    const probe = head.subarray(0, n);
    const bom = unicodeBom(probe);
    if (bom) return { file, message: utf16Message(bom), fatal: false };
    if (probe.indexOf(0) >= 0) return { file, message: BINARY_MESSAGE, fatal: false };
    return undefined;
  } catch (e) {
    return { file, message: `cannot read: ${(e as Error).message}`, fatal: true };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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
      if (st.size > maxSize) return { problem: { file, message: tooBigMessage(st.size, maxSize), fatal: false } };
      b = readFileSync(file);
    } catch (e) {
      return { problem: { file, message: `cannot read: ${(e as Error).message}`, fatal: true } };
    }
  }
  if (b.length > maxSize) return { problem: { file, message: tooBigMessage(b.length, maxSize), fatal: false } };
  const probe = b.subarray(0, 8192);
  const bom = unicodeBom(probe);
  if (bom) return { problem: { file, message: utf16Message(bom), fatal: false } };
  if (probe.indexOf(0) >= 0) return { problem: { file, message: BINARY_MESSAGE, fatal: false } };
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
const NOTIF_16LE = Buffer.from('notif', 'utf16le');
const NOTIF_16BE = Buffer.from('\0n\0o\0t\0i\0f', 'latin1');
/** Files worth parsing mention a notifier API name or a *_notify macro (version-independent superset of the model). */
export const ROOT_RE = /mmu_notifier_|mmu_interval_|hmm_mirror_ops|(?:set_pte_at|flush|young|get_and_clear)_notify\b/;
const LOCK_NEEDLES = ['pte_offset_map_lock', 'page_table_lock', '_lockptr', 'huge_pte_lock', 'pmd_lock', 'pud_lock', 'page_vma_mapped_walk',
  'get_locked_pte', 'trans_huge_lock', 'follow_pte', 'page_check_address'].map((n) => Buffer.from(n));

/** Byte-level pre-filter, one pass over the bytes: can this file mention a notifier at all? */
export function mentionsNotifier(b: Buffer, extra: Buffer[]): boolean {
  if (b.indexOf(NOTIF) >= 0 || extra.some((n) => b.indexOf(n) >= 0)) return true;
  // UTF-16 text that mentions a notifier is relevant too (then readSource says it is not decoded): only files that
  // start with a UTF-16 byte-order mark pay for this second search.
  const bom = b.length >= 2 && b[0] + b[1] === 0x1fd ? unicodeBom(b) : undefined;
  return bom === 'UTF-16LE' ? b.indexOf(NOTIF_16LE) >= 0 : bom === 'UTF-16BE' ? b.indexOf(NOTIF_16BE) >= 0 : false;
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

/** A file that defines notifier ops (a subscriber). */
export const OPS_RE = /\bmmu_(?:interval_)?notifier_ops\b|\bhmm_mirror_ops\b/;
const NOT_KERNEL = /(?:^|\/)(?:tools|Documentation|samples|scripts)\//;

/**
 * Where the callees of subscriber callbacks live, given the files that define ops: the C files of each one's directory
 * and of its parent, and, for the hooks every architecture implements (virt/kvm's callbacks call into
 * arch/{x86,arm64,...}/kvm), the arch/<arch>/<name> trees of the same name. Undefined when there is no subscriber.
 */
export function subscriberNeighbours(opsFiles: string[]): ((file: string) => boolean) | undefined {
  const leaves = new Set<string>();
  const dirs = new Set<string>();
  for (const f of opsFiles) {
    if (!f.endsWith('.c') || NOT_KERNEL.test(f)) continue;
    const d = dirname(f);
    dirs.add(d);
    dirs.add(dirname(d));
    const m = /\/(?:virt|arch\/[\w-]+)\/([\w-]+)$/.exec(d);
    if (m) leaves.add(m[1]);
  }
  if (!dirs.size) return undefined;
  const family = leaves.size ? new RegExp(`/arch/[\\w-]+/(?:${[...leaves].join('|')})(?:/|$)|/virt/(?:${[...leaves].join('|')})(?:/|$)`) : undefined;
  return (file) => /\.[ch]$/.test(file) && !NOT_KERNEL.test(file) && (dirs.has(dirname(file)) || !!family?.test(dirname(file)));
}
