// Worker-thread pool for the read + pre-filter phase of large scans (the analysis itself runs once, in the main thread).
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { ScanOutcome } from '../engine/scan';

/** Scans in worker threads; `onFile` hears of each kept file (or problem) as soon as a worker has it. */
export async function runScanWorkers(files: string[], jobs: number, maxSize: number, extraNames: string[], progress?: (done: number, total: number) => void,
  onFile?: (o: ScanOutcome) => void): Promise<ScanOutcome[]> {
  const script = join(__dirname, 'worker.js');
  const chunks: string[][] = Array.from({ length: jobs }, () => []);
  // Round-robin keeps neighbouring (similar-sized) files spread across workers.
  files.forEach((f, i) => chunks[i % jobs].push(f));
  let done = 0;
  const parts = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise<ScanOutcome[]>((resolve, reject) => {
          const w = new Worker(script, { workerData: { files: chunk, maxSize, extraNames } });
          const result: ScanOutcome[] = [];
          w.on('message', (m: { type: string; done?: number; outcome?: ScanOutcome }) => {
            if (m.type === 'progress') {
              done += m.done ?? 0;
              progress?.(done, files.length);
            } else if (m.type === 'file' && m.outcome) {
              result.push(m.outcome);
              onFile?.(m.outcome);
            }
          });
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolve(result) : reject(new Error(`scan worker exited with code ${code}`))));
        }),
    ),
  );
  const byFile = new Map<string, ScanOutcome>();
  for (const p of parts) for (const o of p) byFile.set(o.file, o);
  return files.map((f) => byFile.get(f) ?? { file: f, roots: false, lockish: false });
}
