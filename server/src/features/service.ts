// The analysis service of the language server: one Project, the open documents layered over files on disk, scheduling and publishing.
import { readFileSync } from 'node:fs';
import { quickScan } from '../engine/files';
import { dirname } from 'node:path';
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { CParser } from '../parse/parser';
import { Project, type ProjectResult } from '../engine/project';
import { findKernelTree, parseVersion, readLockHeaders, versionLabel } from '../kernel/version';
import type { Settings } from '../config';
import { DEFAULT_SETTINGS } from '../config';
import type { Finding, KernelVersion } from '../engine/types';
import { Methods, type StatusParams, type WireFinding } from '../protocol';
import { toDiagnostics } from './diagnostics';
import { chooseRangeApi, type RangeApi } from './fixes';
import { fileToUri, uriToFile } from './uris';
import { globToRegex } from '../engine/files';

export interface ServiceOptions {
  /** Milliseconds of quiet after an edit burst before analysing (the first edit after a quiet period is analysed at once). */
  debounceMs: number;
  /** Directory where rule help pages are written (codeDescription links). */
  helpDir: string;
}

interface Published {
  key: string;
  uri: string;
}

export class AuditService {
  readonly project: Project;
  settings: Settings = DEFAULT_SETTINGS;
  version: KernelVersion | null = null;
  headerText: string | undefined;
  rangeApi: RangeApi = chooseRangeApi(null);
  folders: string[] = [];
  treeRoot: string | undefined;
  last: ProjectResult | undefined;
  private byFile = new Map<string, Finding[]>();
  private errorsByFile = new Map<string, string>();
  /** Open documents: path -> the uri the client uses. */
  private readonly openUris = new Map<string, string>();
  /** Documents whose new text has not been given to the project yet. */
  private readonly dirty = new Set<string>();
  private readonly published = new Map<string, Published>();
  private gen = 0;
  /** The project changed (disk files, settings) since the last analysis. */
  private stale = true;
  private timer: NodeJS.Timeout | undefined;
  private lastRunEnd = 0;
  private running = false;
  private excludeRes: RegExp[] = [];
  /** Observers of each completed analysis (tests of latency, the status bar). */
  onAnalysed: Array<(ms: number) => void> = [];

  constructor(
    readonly parser: CParser,
    private readonly conn: Connection,
    private readonly docs: TextDocuments<TextDocument>,
    readonly opts: ServiceOptions,
  ) {
    // 500 ms per function in the editor: the slowest real function of 6.1 takes under 50 ms; a generated monster
    // ends incomplete quickly, and the analysis yields between functions (see analyzeInSteps).
    this.project = new Project(parser, { settings: this.settings, kernelVersion: null, budgetMs: 500, parseBudgetMs: 5000 });
  }

  /** Applies settings and workspace folders; finds the kernel tree (version, mmu_notifier.h); clears caches. */
  configure(settings: Settings, folders: string[]): void {
    this.settings = settings;
    this.folders = folders;
    this.excludeRes = settings.exclude.map(globToRegex);
    const candidates = [...folders, ...[...this.openUris.keys()].map((f) => dirname(f))];
    let tree = null;
    for (const c of candidates) if ((tree = findKernelTree(c))) break;
    this.treeRoot = tree?.root;
    this.headerText = undefined;
    if (tree?.notifierHeader) {
      try {
        this.headerText = readFileSync(tree.notifierHeader, 'utf8');
      } catch {
        /* unreadable header: the version table is used */
      }
    }
    this.version = settings.kernelVersion ? parseVersion(settings.kernelVersion, 'setting notifierAudit.kernelVersion') : tree?.version ?? null;
    this.rangeApi = chooseRangeApi(this.version, this.headerText);
    this.project.configure({
      settings,
      kernelVersion: this.version,
      header: this.headerText && tree?.notifierHeader ? { text: this.headerText, path: tree.notifierHeader } : undefined,
      lockHeaders: tree?.notifierHeader ? readLockHeaders(tree.notifierHeader) : undefined,
      budgetMs: 500,
      parseBudgetMs: 5000,
    });
    this.gen++;
    this.stale = true;
    this.schedule(0);
  }

  versionLabel(): string {
    return versionLabel(this.version) + (this.version ? ` (${this.version.source})` : '');
  }

  isExcluded(file: string): boolean {
    if (!this.excludeRes.length) return false;
    const rels = this.folders.filter((f) => file.startsWith(f + '/')).map((f) => file.slice(f.length + 1));
    return this.excludeRes.some((r) => r.test(file) || rels.some((p) => r.test(p)));
  }

  // ---- documents -------------------------------------------------------------------------------------------

  opened(doc: TextDocument): void {
    const file = uriToFile(doc.uri);
    this.openUris.set(file, doc.uri);
    if (!this.treeRoot && !this.settings.kernelVersion && findKernelTree(dirname(file))) {
      this.configure(this.settings, this.folders); // a tree above the file: its version and header apply
    }
    this.changed(doc);
  }

  changed(doc: TextDocument): void {
    const file = uriToFile(doc.uri);
    this.dirty.add(file);
    this.gen++;
    this.schedule();
  }

  /** A closed document falls back to its text on disk when the workspace scan keeps it, else leaves the project. */
  closed(doc: TextDocument, keepFromDisk: (file: string) => string | undefined): void {
    const file = uriToFile(doc.uri);
    this.openUris.delete(file);
    this.dirty.delete(file);
    const disk = keepFromDisk(file);
    if (disk !== undefined) this.project.setFile(file, disk);
    else this.project.removeFile(file);
    this.gen++;
    this.stale = true;
    this.schedule();
  }

  isOpen(file: string): boolean {
    return this.openUris.has(file);
  }

  /** A file from disk (workspace scan, watched change); open documents win. */
  setDiskFile(file: string, text: string | undefined, error?: string): void {
    if (this.openUris.has(file)) return;
    if (text !== undefined) this.project.setFile(file, text);
    else if (error) this.project.setFileError(file, error);
    else this.project.removeFile(file);
    this.gen++;
    this.stale = true;
  }

  uriOf(file: string): string {
    return this.openUris.get(file) ?? fileToUri(file);
  }

  // ---- scheduling ------------------------------------------------------------------------------------------

  /** Leading edge after a quiet period (lowest latency while typing), trailing debounce within a burst. */
  schedule(delay?: number): void {
    if (this.timer) clearTimeout(this.timer);
    const quiet = Date.now() - this.lastRunEnd >= this.opts.debounceMs && !this.running;
    const d = delay ?? (quiet && !this.timer ? 0 : this.opts.debounceMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, d);
  }

  /** Gives the project the latest text of every changed open document. */
  private syncDirty(): void {
    for (const file of this.dirty) {
      const uri = this.openUris.get(file);
      const doc = uri ? this.docs.get(uri) : undefined;
      if (!doc) continue;
      const text = doc.getText();
      if (this.isExcluded(file)) this.project.removeFile(file);
      else if (text.length > this.settings.maxFileSize) {
        // Only a relevant file (it mentions a notifier or a page-table lock) says it was not analysed.
        const q = quickScan(Buffer.from(text, 'latin1'), this.extraNames());
        if (q.roots || q.lockish) this.project.setFileError(file, `not analysed: ${text.length} characters is over notifierAudit.maxFileSize (${this.settings.maxFileSize} bytes)`);
        else this.project.removeFile(file);
      } else this.project.setFile(file, text);
    }
    this.dirty.clear();
  }

  /**
   * Analyses now (synchronously) if anything changed; used by requests that need current findings. While an
   * analysis in steps is running, the request is answered from the last complete one instead (never blocked).
   */
  ensureCurrent(): void {
    if (this.running && this.last) return;
    if (!this.dirty.size && !this.stale && this.last && !this.timer) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const res = this.analyzeNow();
    this.publish(res);
  }

  private analyzeNow(): ProjectResult {
    this.syncDirty();
    this.stale = false;
    const t0 = performance.now();
    let res: ProjectResult;
    try {
      res = this.project.analyze();
    } catch (e) {
      res = this.failed(e);
    }
    return this.took(res, performance.now() - t0);
  }

  /** The engine failed as a whole: say so on every open file instead of crashing. */
  private failed(e: unknown): ProjectResult {
    const msg = `notifier-audit: analysis failed: ${(e as Error).message}`;
    this.conn.console.error(`${msg}\n${(e as Error).stack ?? ''}`);
    return { findings: [], suppressed: [], incomplete: [], errors: [...this.openUris.keys()].map((file) => ({ file, message: msg })), functionsAnalysed: 0, filesParsed: 0 };
  }

  /**
   * The analysis in steps (the connection stays responsive while a heavy function is analysed): undefined when an
   * edit or a configuration change made it outdated before it finished (it stopped; a new one is scheduled).
   */
  private async analyzeInSteps(g: number): Promise<ProjectResult | undefined> {
    this.syncDirty();
    this.stale = false;
    const t0 = performance.now();
    let res: ProjectResult | undefined;
    try {
      res = await this.project.analyzeAsync(() => g !== this.gen || this.dirty.size > 0);
    } catch (e) {
      res = this.failed(e);
    }
    if (!res) {
      this.stale = true;
      return undefined;
    }
    return this.took(res, performance.now() - t0);
  }

  private took(res: ProjectResult, ms: number): ProjectResult {
    this.last = res;
    this.byFile = new Map();
    for (const f of res.findings) {
      let l = this.byFile.get(f.file);
      if (!l) this.byFile.set(f.file, (l = []));
      l.push(f);
    }
    this.errorsByFile = new Map(res.errors.map((e) => [e.file, e.message]));
    for (const cb of this.onAnalysed) cb(ms);
    return res;
  }

  private async run(): Promise<void> {
    if (this.running) {
      this.schedule(this.opts.debounceMs);
      return;
    }
    this.running = true;
    try {
      const g = this.gen;
      const res = await this.analyzeInSteps(g);
      // Let edits that arrived during the analysis reach us; if any did, this result is outdated: drop it.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      if (!res || g !== this.gen || this.dirty.size) {
        this.schedule(this.opts.debounceMs);
        return;
      }
      this.publish(res);
    } finally {
      this.running = false;
      this.lastRunEnd = Date.now();
    }
  }

  // ---- publishing ------------------------------------------------------------------------------------------

  private publish(res: ProjectResult): void {
    const files = new Set<string>([...this.byFile.keys(), ...this.errorsByFile.keys(), ...this.openUris.keys()]);
    for (const p of this.published.keys()) files.add(p);
    for (const file of files) {
      const findings = this.byFile.get(file) ?? [];
      const error = this.errorsByFile.get(file);
      const uri = this.uriOf(file);
      const doc = this.docs.get(uri);
      const diags = toDiagnostics(findings, error, this.opts.helpDir, (f) => this.uriOf(f));
      const key = JSON.stringify(diags) + '\0' + (doc?.version ?? '');
      const prev = this.published.get(file);
      if (prev && prev.key === key) continue;
      if (!diags.length && !prev && !doc) continue;
      void this.conn.sendDiagnostics({ uri, version: doc?.version, diagnostics: diags });
      if (!diags.length && !doc) this.published.delete(file);
      else this.published.set(file, { key, uri });
    }
    this.lastFindingCount = res.findings.length;
    this.sendStatus();
  }

  /** Names the pre-filter looks for beside the built-in ones: the configured notifiers and lock helpers. */
  extraNames(): string[] {
    return this.settings.notifiers.map((n) => n.name).concat(this.settings.lockHelpers.map((h) => h.name));
  }

  /** A workspace scan is running: the status says so instead of a count of findings not yet known. */
  scanning = false;
  private lastFindingCount = 0;

  sendStatus(): void {
    const status: StatusParams = {
      findings: this.lastFindingCount,
      files: this.project.fileNames().length,
      busy: this.scanning,
      kernelVersion: versionLabel(this.version),
    };
    void this.conn.sendNotification(Methods.status, status);
  }

  // ---- queries ---------------------------------------------------------------------------------------------

  findingsOf(file: string): Finding[] {
    return this.byFile.get(file) ?? [];
  }

  allFindings(): Finding[] {
    return this.last?.findings ?? [];
  }

  wire(f: Finding): WireFinding {
    return { ...f, uri: this.uriOf(f.file) };
  }

  /** Current text of a file as the project sees it. */
  textOf(file: string): string | undefined {
    const uri = this.openUris.get(file);
    return (uri ? this.docs.get(uri)?.getText() : undefined) ?? this.project.getText(file);
  }
}
