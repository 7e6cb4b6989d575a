// Audit of files and directories on disk: file discovery, pre-filter (optionally in worker threads), kernel version, analysis.
import { readFileSync } from 'node:fs';
import { CParser } from '../parse/parser';
import { Project } from './project';
import { SUBSCRIBER_RULES } from './subscribers';
import { collectFiles, mentionsLock, OPS_RE, readSource, subscriberNeighbours, type FileProblem } from './files';
import { scanFile, type ScanOutcome } from './scan';
export type { ScanOutcome };
import { dirname } from 'node:path';
import { findKernelTree, parseVersion, readLockHeaders, versionLabel } from '../kernel/version';
import type { Settings } from '../config';
import type { AuditResult, KernelVersion } from './types';

export const TOOL_VERSION = '0.1.0';

export interface AuditOptions {
  settings: Settings;
  /** "X.Y" from the command line; overrides the tree's Makefile and settings.kernelVersion. */
  kernelVersion?: string;
  jobs?: number;
  /** Called with (done, total) while files are read. */
  progress?: (done: number, total: number) => void;
  /** Keep only findings in functions whose lines [start, end] this says are touched (the --diff case). */
  touched?: (file: string, startLine: number, endLine: number) => boolean;
  parser?: CParser;
}

/**
 * Reads the files of `files` that are not `taken` and that `byName`, then `byBytes`, pick: the extra files a scan adds
 * next to the notifier users, up to `maxBytes` in all. Unreadable ones were reported by the first pass.
 */
function readExtra(files: string[], taken: Set<string>, byName: (file: string) => boolean, byBytes: (buf: Buffer) => boolean, maxSize: number, lockish: boolean, maxBytes = Infinity): ScanOutcome[] {
  const out: ScanOutcome[] = [];
  let bytes = 0;
  for (const f of files) {
    if (taken.has(f) || !byName(f)) continue;
    let buf: Buffer;
    try {
      buf = readFileSync(f);
    } catch {
      continue;
    }
    if (!byBytes(buf)) continue;
    const r = readSource(f, maxSize, buf);
    if (r.text === undefined) continue;
    out.push({ file: f, roots: false, lockish, text: r.text });
    if ((bytes += buf.length) > maxBytes) break;
  }
  return out;
}

/** Files next to a notifier user that mention a page-table lock: their helpers may be callees worth summarising. */
function scanNeighbours(files: string[], scanned: ScanOutcome[], maxSize: number, lockNames: string[]): ScanOutcome[] {
  const dirs = new Set<string>();
  for (const s of scanned) if (s.roots) dirs.add(dirname(s.file));
  const extra = lockNames.map((n) => Buffer.from(n));
  const taken = new Set(scanned.filter((s) => s.roots).map((s) => s.file));
  return readExtra(files, taken, (f) => dirs.has(dirname(f)), (buf) => mentionsLock(buf, extra), maxSize, true);
}

async function scanAll(files: string[], opts: AuditOptions, extraNames: string[], onFile: (o: ScanOutcome) => void): Promise<ScanOutcome[]> {
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, 16));
  const max = opts.settings.maxFileSize;
  let first: ScanOutcome[];
  if (jobs <= 1 || files.length < 200) {
    first = [];
    for (let i = 0; i < files.length; i++) {
      const o = scanFile(files[i], max, extraNames);
      first.push(o);
      if (o.text !== undefined || o.problem) onFile(o);
      if (opts.progress && (i & 255) === 0) opts.progress(i, files.length);
    }
  } else {
    const { runScanWorkers } = await import('../cli/pool');
    first = await runScanWorkers(files, jobs, max, extraNames, opts.progress, onFile);
  }
  const lockNames = [...opts.settings.lockHelpers.map((h) => h.name), ...opts.settings.unlockHelpers.map((h) => h.name)];
  const neighbours = scanNeighbours(files, first, max, lockNames);
  for (const o of neighbours) onFile(o);
  const callees = opts.settings.enabledRules.some((r) => SUBSCRIBER_RULES.includes(r)) ? scanSubscriberNeighbours(files, first.concat(neighbours), max) : [];
  for (const o of callees) onFile(o);
  return first.concat(neighbours, callees);
}

/** Files where the callees of the subscriber callbacks in the scanned files live (see subscriberNeighbours). */
function scanSubscriberNeighbours(files: string[], scanned: ScanOutcome[], maxSize: number): ScanOutcome[] {
  const taken = new Set(scanned.filter((s) => s.text !== undefined).map((s) => s.file));
  const wanted = subscriberNeighbours(scanned.filter((s) => s.text !== undefined && OPS_RE.test(s.text)).map((s) => s.file));
  return wanted ? readExtra(files, taken, wanted, () => true, maxSize, false, 200 * 1024 * 1024) : [];
}

export function resolveVersion(paths: string[], opts: { kernelVersion?: string; settings: Settings }): { version: KernelVersion | null; header?: string; problems: string[] } {
  const problems: string[] = [];
  const tree = paths.length ? findKernelTree(paths[0]) : null;
  const wanted = opts.kernelVersion ?? opts.settings.kernelVersion ?? undefined;
  let version: KernelVersion | null = null;
  if (wanted) {
    version = parseVersion(wanted, opts.kernelVersion ? 'option' : 'settings');
    if (!version) problems.push(`bad kernel version "${wanted}": expected X.Y`);
  } else if (tree?.version) version = tree.version;
  return { version, header: tree?.notifierHeader, problems };
}

type AuditStats = { parsed: number; functions: number; candidates: number; walkMs: number; scanMs: number; analyzeMs: number; parseMs: number; parses: number; analysisMs: number; runs: number; timeline: Record<string, number> };
type AuditOutcome = AuditResult & { fatal: boolean; stats: AuditStats };

/**
 * Audits files and directories. Each kernel tree is audited with its own version (its Makefile) and its own
 * project, so that paths in several trees (a v3.6 and a 6.1 checkout side by side) are each judged by their own
 * semantics; the result says which trees and versions were used. `--kernel-version` applies one version to all.
 */
export async function audit(paths: string[], opts: AuditOptions): Promise<AuditOutcome> {
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const root = opts.kernelVersion ? '' : findKernelTree(p)?.root ?? '';
    const g = groups.get(root);
    if (g) g.push(p);
    else groups.set(root, [p]);
  }
  if (groups.size <= 1) return auditTree(paths, opts);
  const parser = opts.parser ?? (await CParser.create());
  const parts: AuditOutcome[] = [];
  for (const g of groups.values()) parts.push(await auditTree(g, { ...opts, parser }));
  const order = (a: { file: string; line: number }, b: { file: string; line: number }): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line);
  const sum = (k: keyof AuditStats): number => parts.reduce((n, r) => n + (r.stats[k] as number), 0);
  const trees = [...groups.entries()].map(([root, ps], i) => ({ root: root || '(no kernel tree)', kernelVersion: parts[i].kernelVersion, paths: ps }));
  return {
    tool: 'notifier-audit',
    version: TOOL_VERSION,
    kernelVersion: `mixed trees: ${trees.map((t) => `${t.kernelVersion} for ${t.root}`).join('; ')}`,
    trees,
    filesScanned: parts.reduce((n, r) => n + r.filesScanned, 0),
    findings: parts.flatMap((r) => r.findings).sort(order),
    suppressed: parts.flatMap((r) => r.suppressed).sort(order),
    incomplete: parts.flatMap((r) => r.incomplete),
    errors: parts.flatMap((r) => r.errors),
    fatal: parts.some((r) => r.fatal),
    stats: {
      parsed: sum('parsed'), functions: sum('functions'), candidates: sum('candidates'), walkMs: sum('walkMs'), scanMs: sum('scanMs'), analyzeMs: sum('analyzeMs'),
      parseMs: sum('parseMs'), parses: sum('parses'), analysisMs: sum('analysisMs'), runs: sum('runs'), timeline: parts[parts.length - 1].stats.timeline,
    },
  };
}

/** Audits paths of one kernel tree (or of none); never throws for bad input (problems are reported in `errors`). */
async function auditTree(paths: string[], opts: AuditOptions): Promise<AuditOutcome> {
  // One clock (ms since the process started): phase durations and the timeline come from the same marks.
  const t0 = performance.now();
  const { files, problems } = collectFiles(paths, opts.settings.exclude);
  const t1 = performance.now();
  const { version, header, problems: vp } = resolveVersion(paths, opts);
  const extraNames = opts.settings.notifiers.map((n) => n.name);
  // The parser and project exist before the scan, so kept files are parsed while workers still read the rest.
  const parser = opts.parser ?? (await CParser.create());
  const tParser = performance.now();
  let headerInfo: { text: string; path: string } | undefined;
  if (header) {
    try {
      headerInfo = { text: readFileSync(header, 'utf8'), path: header };
    } catch {
      /* the built-in model stays */
    }
  }
  const lockHeaders = header ? readLockHeaders(header) : undefined;
  const project = new Project(parser, { settings: opts.settings, kernelVersion: version, header: headerInfo, lockHeaders, parseBudgetMs: 20000, partialParse: true });
  const allProblems: FileProblem[] = [...problems];
  let candidates = 0;
  const onFile = (s: ScanOutcome): void => {
    if (s.problem) allProblems.push(s.problem);
    if (s.text !== undefined) {
      project.setFile(s.file, s.text);
      if (s.roots) project.parsedFile(s.file);
      candidates++;
    }
  };
  await scanAll(files, opts, extraNames, onFile);
  const t2 = performance.now();
  const r = project.analyze();
  const t3 = performance.now();
  let findings = r.findings;
  let suppressed = r.suppressed;
  if (opts.touched) {
    const extents = new Map<string, Map<string, [number, number]>>();
    // A finding is kept when the patch touches its function, or any point of its witness path or of its related
    // locations (the set_pte_at_notify() a caller-level report names, where the range was opened or the lock taken):
    // a change elsewhere can cause it.
    const keep = (f: { file: string; function: string; line: number; path: Array<{ file: string; line: number }>; related: Array<{ file: string; line: number }> }): boolean => {
      let m = extents.get(f.file);
      if (!m) {
        m = new Map();
        for (const fn of project.functionsOf(f.file)) m.set(fn.name, [fn.line, fn.endLine]);
        extents.set(f.file, m);
      }
      const e = m.get(f.function) ?? [f.line, f.line];
      if (opts.touched!(f.file, e[0], e[1])) return true;
      return [...f.path, ...f.related].some((p) => opts.touched!(p.file, p.line, p.line));
    };
    findings = findings.filter(keep);
    suppressed = suppressed.filter(keep);
  }
  const errors = [...allProblems.map((p) => ({ file: p.file, message: p.message })), ...r.errors, ...vp.map((m) => ({ file: '', message: m }))]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.message < b.message ? -1 : 1));
  project.dispose();
  return {
    tool: 'notifier-audit',
    version: TOOL_VERSION,
    kernelVersion: version ? `${versionLabel(version)} (${version.source})` : versionLabel(null),
    filesScanned: files.length,
    findings,
    suppressed,
    incomplete: r.incomplete,
    errors,
    fatal: allProblems.some((p) => p.fatal) || vp.length > 0,
    stats: { parsed: r.filesParsed, functions: r.functionsAnalysed, candidates, walkMs: Math.round(t1 - t0), scanMs: Math.round(t2 - t1), analyzeMs: Math.round(t3 - t2), parseMs: Math.round(project.timing.parseMs), parses: project.timing.parses, analysisMs: Math.round(project.timing.analysisMs), runs: project.timing.runs,
      // Milliseconds since the process started (where the time of a short run goes).
      timeline: { audit: Math.round(t0), parserReady: Math.round(tParser), scanned: Math.round(t2), analysed: Math.round(t3) } },
  };
}
