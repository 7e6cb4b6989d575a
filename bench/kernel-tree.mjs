// Kernel trees for the benchmarks: the same installer and extractor the tests use (scripts/kernel-tree.mjs).
//   node bench/kernel-tree.mjs 6.1 6.12   -> prints the extracted paths
import { join } from 'node:path';
import { ensureKernelTree as ensure, ROOT } from '../scripts/kernel-tree.mjs';

export const cacheDir = join(ROOT, '.cache');

export function treePath(version) {
  return join(cacheDir, `linux-source-${version}`);
}

/** Path of the extracted tree; throws with the reason when it cannot be had on this machine. */
export function ensureKernelTree(version) {
  const r = ensure(version);
  if (r.skip) throw new Error(r.skip);
  return r.path;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const v of process.argv.slice(2)) process.stdout.write(`${ensureKernelTree(v)}\n`);
}
