// Reading and pre-filtering one file (also run in worker threads: this module imports nothing heavy).
import { readFileSync } from 'node:fs';
import { mentionsNotifier, readSource, ROOT_RE, type FileProblem } from './files';

export interface ScanOutcome {
  file: string;
  roots: boolean;
  lockish: boolean;
  text?: string;
  problem?: FileProblem;
}

/** Reads and pre-filters one file: only files that mention a notifier keep their text. */
export function scanFile(file: string, maxSize: number, extraNames: string[]): ScanOutcome {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    return { file, roots: false, lockish: false, problem: { file, message: `cannot read: ${(e as Error).message}`, fatal: true } };
  }
  const extra = extraNames.map((n) => Buffer.from(n));
  if (!mentionsNotifier(buf, extra)) return { file, roots: false, lockish: false };
  const r = readSource(file, maxSize, buf);
  if (r.text === undefined) return { file, roots: false, lockish: false, problem: r.problem };
  const roots = ROOT_RE.test(r.text) || extraNames.some((n) => r.text!.includes(n));
  return roots ? { file, roots, lockish: false, text: r.text, problem: r.problem } : { file, roots: false, lockish: false };
}

