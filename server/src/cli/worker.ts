// Worker thread of the scan pool: reads its share of the files and returns only those the pre-filter keeps.
import { parentPort, workerData } from 'node:worker_threads';
import { scanFile, type ScanOutcome } from '../engine/scan';

const { files, maxSize, extraNames } = workerData as { files: string[]; maxSize: number; extraNames: string[] };
let sinceReport = 0;
for (const f of files) {
  const r: ScanOutcome = scanFile(f, maxSize, extraNames);
  // Kept files go out at once, so the main thread parses them while the scan goes on.
  if (r.text !== undefined || r.problem) parentPort!.postMessage({ type: 'file', outcome: r });
  if (++sinceReport === 512) {
    parentPort!.postMessage({ type: 'progress', done: sinceReport });
    sinceReport = 0;
  }
}
parentPort!.postMessage({ type: 'progress', done: sinceReport });
