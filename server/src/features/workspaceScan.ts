// Workspace scan: the C files of the workspace folders that pass the pre-filter enter the project (disk text), with progress.
import { readFileSync, statSync } from 'node:fs';
import { collectFiles, OPS_RE, quickScan, readSource, subscriberNeighbours } from '../engine/files';
import { SUBSCRIBER_RULES } from '../engine/subscribers';
import type { AuditService } from './service';

export interface ScanProgress {
  report(percentage: number, message: string): void;
}

/** Files taken from disk by the last scan (a closed document falls back to them). */
export const scannedFiles = new Set<string>();

/** Reads one file from disk as the scan would: undefined when it is not worth analysing. */
/** `prefilter` false: the file is wanted whatever it mentions (a subscriber's callee). */
export function readForProject(svc: AuditService, file: string, prefilter = true): { text?: string; error?: string } | undefined {
  if (svc.isExcluded(file) || !/\.[ch]$/.test(file)) return undefined;
  let buf: Buffer;
  let size: number;
  try {
    size = statSync(file).size;
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  // The pre-filter comes first: a big file that mentions no notifier and no page-table lock (the generated AMD
  // register headers) is simply not relevant; only a relevant file that is too big says it was not analysed.
  if (prefilter) {
    const q = quickScan(buf, svc.extraNames());
    if (!q.roots && !q.lockish) return undefined;
  }
  if (size > svc.settings.maxFileSize) {
    return { error: `not analysed: ${size} bytes is over notifierAudit.maxFileSize (${svc.settings.maxFileSize} bytes)` };
  }
  const r = readSource(file, svc.settings.maxFileSize, buf);
  if (r.text !== undefined) return { text: r.text };
  return r.problem?.fatal === false ? { error: r.problem.message } : undefined;
}

/** Scans the workspace folders; yields to the event loop so edits keep flowing during a long scan. */
export async function scanWorkspace(svc: AuditService, progress?: ScanProgress): Promise<{ scanned: number; added: number }> {
  const { files } = collectFiles(svc.folders, svc.settings.exclude);
  const seen = new Set<string>();
  let added = 0;
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    seen.add(file);
    const r = readForProject(svc, file);
    if (r) {
      svc.setDiskFile(file, r.text, r.error);
      scannedFiles.add(file);
      added++;
    } else if (scannedFiles.has(file)) {
      scannedFiles.delete(file);
      svc.setDiskFile(file, undefined);
    }
    if (i % 25 === 24) {
      progress?.report(Math.round(((i + 1) / files.length) * 100), `${i + 1}/${files.length} files`);
      await new Promise((res) => setImmediate(res));
    }
  }
  // The callees of the subscriber callbacks (a driver's directory, arch/*/kvm for virt/kvm): they may mention no
  // notifier at all, so the pre-filter dropped them.
  const opsFiles = [...scannedFiles].filter((f) => f.endsWith('.c') && OPS_RE.test(svc.project.getText(f) ?? ''));
  const wanted = opsFiles.length && svc.settings.enabledRules.some((r) => SUBSCRIBER_RULES.includes(r)) ? subscriberNeighbours(opsFiles) : undefined;
  if (wanted) {
    for (const file of files) {
      if (scannedFiles.has(file) || !wanted(file)) continue;
      const r = readForProject(svc, file, false);
      if (r?.text === undefined) continue;
      svc.setDiskFile(file, r.text);
      scannedFiles.add(file);
      added++;
    }
  }
  for (const f of [...scannedFiles]) {
    if (!seen.has(f)) {
      scannedFiles.delete(f);
      svc.setDiskFile(f, undefined);
    }
  }
  return { scanned: files.length, added };
}
