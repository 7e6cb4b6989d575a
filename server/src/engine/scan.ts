// Reading and pre-filtering one file (also run in worker threads: this module imports nothing heavy).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mentionsNotifier, readSource, ROOT_RE, type FileProblem } from './files';

export interface ScanOutcome {
  file: string;
  roots: boolean;
  lockish: boolean;
  text?: string;
  problem?: FileProblem;
}

/** Reads and pre-filters one file: only files that mention a notifier keep their text. */
let shared = Buffer.allocUnsafe(1 << 20);

/** Reads a whole file into a reused buffer (most files are dropped by the pre-filter: no allocation for them). */
function readShared(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size + 1 > shared.length) shared = Buffer.allocUnsafe(Math.max(size + 1, shared.length * 2));
    let n = 0;
    for (;;) {
      const k = readSync(fd, shared, n, shared.length - n, null);
      if (k <= 0) break;
      n += k;
      if (n === shared.length) shared = Buffer.concat([shared, Buffer.allocUnsafe(shared.length)]);
    }
    return shared.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function scanFile(file: string, maxSize: number, extraNames: string[]): ScanOutcome {
  let view: Buffer;
  try {
    view = readShared(file);
  } catch (e) {
    return { file, roots: false, lockish: false, problem: { file, message: `cannot read: ${(e as Error).message}`, fatal: true } };
  }
  const extra = extraNames.map((n) => Buffer.from(n));
  if (!mentionsNotifier(view, extra)) return { file, roots: false, lockish: false };
  const buf = Buffer.from(view);
  const r = readSource(file, maxSize, buf);
  if (r.text === undefined) return { file, roots: false, lockish: false, problem: r.problem };
  const roots = ROOT_RE.test(r.text) || extraNames.some((n) => r.text!.includes(n));
  return roots ? { file, roots, lockish: false, text: r.text, problem: r.problem } : { file, roots: false, lockish: false };
}

