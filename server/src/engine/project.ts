// The engine's entry point: a set of C files, their parses and function analyses, and the findings over all of them.
import { CParser, type ParsedText, type Tree } from '../parse/parser';
import { findFunctions, type FunctionInfo } from '../parse/syntax';
import { prepass, type PrepassResult } from '../parse/prepass';
import { functionItems, lineStartsOf, type TopItem } from '../parse/ranges';
import { analyzeFunction, type FunctionAnalysis } from '../dataflow/analyze';
import { escapes, summaryFingerprint, type Summary } from '../dataflow/summary';
import { KernelModel } from '../kernel/model';
import { RULES } from '../rules';
import { publicPath } from '../rules/types';
import { computeFixHint } from './fixhint';
import { FindingCollector } from './report';
import { rebase, type FnResult } from './results';
import { PtePlacement } from './placement';
import { checkFunctionRewrite, checkSubscriberRewrite } from './verify';
import type { Settings } from '../config';
import type { FileError, Finding, IncompleteInfo, KernelVersion } from './types';
import { SubscriberPass, SUBSCRIBER_RULES } from './subscribers';

export interface ProjectOptions {
  settings: Settings;
  kernelVersion: KernelVersion | null;
  /** Text and path of the audited tree's include/linux/mmu_notifier.h. */
  header?: { text: string; path: string };
  /** Headers of the audited tree whose `__releases()` prototypes name lock-releasing functions (see lockHeaderPaths). */
  lockHeaders?: Array<{ text: string; path: string }>;
  /** Time budget per function analysis. */
  budgetMs?: number;
  maxVisits?: number;
  /** Time budget for parsing one file. */
  parseBudgetMs?: number;
  /** Batch runs: parse only the functions that mention a notifier or a page-table lock (no incremental edits). */
  partialParse?: boolean;
}

interface FileState {
  file: string;
  text: string;
  /** Mentions notifier ops, interval notifiers or a registration (computed once per text). */
  subscriber?: boolean;
  /** Full mode: the whole file's parse (re-parsed incrementally after edits). */
  parsed?: ParsedText;
  /** Function definitions parsed so far (all of them in full mode), in source order. */
  functions?: FunctionInfo[];
  /** Partial mode: the file is "opened" (pre-passed, its items found) and its functions are parsed on demand. */
  partial?: PartialFile;
  error?: string;
  /** Mentions a notifier name (its functions are roots of the analysis). */
  roots: boolean;
  /** Mentions a lock helper or ptl (its functions may matter as callees). */
  lockish: boolean;
}

/** A file in batch mode: function definitions are parsed a few at a time, when the analysis needs them. */
interface PartialFile {
  pre: PrepassResult;
  /** Line start offsets (tree-sitter ranges and node positions are computed from them). */
  lines: number[];
  items: TopItem[];
  parsed: Uint8Array;
  trees: Tree[];
  /** Names followed by '(' in each item's header (a superset of the name it defines) -> item indices. */
  headerNames: Map<string, number[]>;
}

interface FnMeta {
  readonly text: string;
  readonly key: string;
  /** File and text hash: the cache key that survives edits above the function. */
  readonly posFree: string;
  readonly root: boolean;
  readonly lockish: boolean;
  /** Names followed by '(' in the function: the functions it may call. */
  readonly calls: Set<string>;
}

/** FnMeta whose text, keys and call set are computed only when asked for. */
class LazyMeta implements FnMeta {
  private t?: string;
  private k?: string;
  private p?: string;
  private c?: Set<string>;
  constructor(private readonly file: string, private readonly src: string, private readonly fn: FunctionInfo, readonly root: boolean, readonly lockish: boolean) {}
  get text(): string {
    return (this.t ??= this.src.slice(this.fn.start, this.fn.end));
  }
  // The function's text itself is part of the keys (Map keys hash strings natively; node:crypto costs ~10 ms to load).
  get key(): string {
    return (this.k ??= `${this.file}\0${this.fn.start}\0${this.fn.line}\0${this.text}`);
  }
  get posFree(): string {
    return (this.p ??= `${this.file}\0${this.text}`);
  }
  get calls(): Set<string> {
    if (!this.c) {
      this.c = new Set();
      for (const m of this.text.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) this.c.add(m[1]);
    }
    return this.c;
  }
}


export interface ProjectResult {
  findings: Finding[];
  suppressed: Finding[];
  incomplete: IncompleteInfo[];
  errors: FileError[];
  /** Functions analysed and the files they came from. */
  functionsAnalysed: number;
  filesParsed: number;
}

/**
 * Name -> the files that seem to define it: a line that starts with the name, or with a declaration prefix before it,
 * followed by `(` (`static int\nfoo(`, `static int foo(`). A superset: the parse decides.
 */
function definitionFiles(states: FileState[]): Map<string, FileState[]> {
  const m = new Map<string, FileState[]>();
  for (const st of states) {
    for (const d of st.text.matchAll(/^(?:[A-Za-z_][^\n;=(]*?\b)?([A-Za-z_]\w*)\s*\(/gm)) {
      const l = m.get(d[1]);
      if (!l) m.set(d[1], [st]);
      else if (l[l.length - 1] !== st) l.push(st);
    }
  }
  return m;
}

const SUBSCRIBER_TEXT = /mmu_(?:interval_)?notifier_ops|hmm_mirror_ops|mmu_interval_|mmu_notifier_register|mmu_notifier_get/;
const LOCKISH = /\bptl|ptl\b|page_table_lock|pte_offset_map_lock|get_locked_pte|page_check_address|page_vma_mapped_walk|pmd_lock|pud_lock|huge_pte_lock|trans_huge_lock|follow_pte|pte_unmap_unlock|_lockptr/;

export class Project {
  private readonly files = new Map<string, FileState>();
  private model!: KernelModel;
  private settings!: Settings;
  private opts!: ProjectOptions;
  private rootRe!: RegExp;
  private lockRe!: RegExp;
  private cache = new Map<string, FnResult[]>();
  private meta = new WeakMap<FunctionInfo, FnMeta>();
  private index: Map<string, Array<{ file: FileState; fn: FunctionInfo }>> | undefined;

  constructor(private readonly parser: CParser, opts: ProjectOptions) {
    this.configure(opts);
  }

  /** (Re)sets settings and kernel version; clears cached analyses. */
  configure(opts: ProjectOptions): void {
    this.opts = opts;
    this.settings = opts.settings;
    this.model = new KernelModel(opts.kernelVersion, opts.settings);
    if (opts.header) this.model.learnHeader(opts.header.text, opts.header.path);
    for (const h of opts.lockHeaders ?? []) this.model.learnReleases(h.text);
    this.rootRe = this.model.notifierRegex();
    const extra = [...opts.settings.lockHelpers.map((h) => h.name), ...opts.settings.unlockHelpers.map((h) => h.name)];
    this.lockRe = extra.length ? new RegExp(`${LOCKISH.source}|\\b(?:${extra.join('|')})\\b`) : LOCKISH;
    this.cache.clear();
    this.lastSubscriberPass = undefined;
    this.meta = new WeakMap();
    this.mutations++;
    for (const f of this.files.values()) {
      f.roots = this.rootRe.test(f.text);
      f.lockish = this.lockRe.test(f.text);
    }
  }

  get kernelModel(): KernelModel {
    return this.model;
  }

  hasFile(file: string): boolean {
    return this.files.has(file);
  }

  fileNames(): string[] {
    return [...this.files.keys()];
  }

  getText(file: string): string | undefined {
    return this.files.get(file)?.text;
  }

  /** Adds or replaces a file; an already parsed file is re-parsed incrementally (lazily, at the next analysis). */
  setFile(file: string, text: string): void {
    const old = this.files.get(file);
    if (old && old.text === text) return;
    const st: FileState = { file, text, roots: this.rootRe.test(text), lockish: this.lockRe.test(text) };
    if (old?.parsed) {
      try {
        st.parsed = this.parser.parse(text, old.parsed, this.opts.parseBudgetMs);
        st.functions = findFunctions(st.parsed.tree, st.parsed.pre.text);
      } catch (e) {
        st.error = `could not parse: ${(e as Error).message}`;
      }
    }
    if (old) this.deleteTrees(old, st.parsed?.tree);
    this.files.set(file, st);
    this.filesChanged();
  }

  /** Frees a file state's trees (but `keep`, re-used by its incremental re-parse). */
  private deleteTrees(st: FileState, keep?: Tree): void {
    if (st.parsed && st.parsed.tree !== keep) st.parsed.tree.delete();
    if (st.partial) for (const t of st.partial.trees) t.delete();
  }

  private filesChanged(): void {
    this.mutations++;
    this.index = undefined;
    this.opened = undefined;
    this.subDefs = undefined;
  }

  private subDefs: Map<string, FileState[]> | undefined;
  private lastSubscriberPass: { pass: SubscriberPass; files: string } | undefined;

  /**
   * Every definition a call of `name` from `fromFile` may reach, for the subscriber rules: the one in the same file, or
   * else each non-static one (several architectures define the same hook) and static inline ones in headers. Files are
   * opened and the definitions parsed on demand.
   */
  allDefinitions(name: string, fromFile: string): Array<{ file: string; fn: FunctionInfo; text: string }> {
    this.subDefs ??= definitionFiles(this.sortedFiles().filter((st) => !st.error));
    const found: Array<{ file: string; fn: FunctionInfo; text: string; isStatic: boolean }> = [];
    for (const st of this.subDefs.get(name) ?? []) {
      this.ensureParsed(st);
      const pf = st.partial;
      if (pf) {
        const todo = (pf.headerNames.get(name) ?? []).filter((i) => !pf.parsed[i]);
        if (todo.length) this.parseItems(st, todo);
      }
      for (const fn of st.functions ?? []) if (fn.name === name) found.push({ file: st.file, fn, text: st.text, isStatic: fn.isStatic });
    }
    const own = found.filter((d) => d.file === fromFile);
    if (own.length) return own.slice(0, 1);
    return found.filter((d) => !d.isStatic || d.file.endsWith('.h'));
  }

  /** The functions of a file whose text `want` accepts (parsed on demand in partial mode). */
  functionsMatching(file: string, want: (text: string) => boolean): Array<{ file: string; fn: FunctionInfo; text: string }> {
    const st = this.files.get(file);
    if (!st || st.error) return [];
    this.ensureParsed(st);
    if (st.partial) this.parseItems(st, want);
    return (st.functions ?? []).filter((fn) => want(st.text.slice(fn.start, fn.end))).map((fn) => ({ file: st.file, fn, text: st.text }));
  }

  /** Files the subscriber rules look at (they mention notifier ops, interval notifiers or a registration). */
  subscriberFiles(): Array<{ file: string; text: string }> {
    return this.sortedFiles()
      .filter((st) => !st.error && (st.subscriber ??= SUBSCRIBER_TEXT.test(st.text)))
      .map((st) => ({ file: st.file, text: st.text }));
  }

  /** Records a file that could not be read or is not C (reported, not analysed). */
  setFileError(file: string, message: string): void {
    this.removeFile(file);
    this.files.set(file, { file, text: '', error: message, roots: false, lockish: false });
  }

  removeFile(file: string): void {
    const old = this.files.get(file);
    if (old) this.deleteTrees(old);
    this.files.delete(file);
    this.filesChanged();
  }

  /** The parse of a file (parsing it now if needed); undefined when it failed, and in partial mode. */
  parsedFile(file: string): ParsedText | undefined {
    const st = this.files.get(file);
    if (!st) return undefined;
    this.ensureParsed(st);
    return st.parsed;
  }

  /** The function definitions parsed so far in a file (in partial mode, those the analysis needed). */
  functionsOf(file: string): FunctionInfo[] {
    const st = this.files.get(file);
    if (!st) return [];
    this.ensureParsed(st);
    return st.functions ?? [];
  }

  /** Time spent parsing and analysing (for --stats style reports). */
  readonly timing = { parseMs: 0, parses: 0, analysisMs: 0, runs: 0, subscriberPasses: 0 };

  private ensureParsed(st: FileState): void {
    if (st.parsed || st.partial || st.error) return;
    if (this.opts.partialParse) {
      this.openPartial(st);
      return;
    }
    const t0 = performance.now();
    this.timing.parses++;
    try {
      st.parsed = this.parser.parse(st.text, undefined, this.opts.parseBudgetMs);
      st.functions = findFunctions(st.parsed.tree, st.parsed.pre.text);
    } catch (e) {
      st.error = `could not parse: ${(e as Error).message}`;
    }
    this.timing.parseMs += performance.now() - t0;
  }

  /**
   * Partial mode: pre-passes the file, finds its function definitions on the mask, and parses those that mention a
   * notifier (the roots). Others are parsed when a call needs their definition or they call an escaping function.
   */
  private openPartial(st: FileState): void {
    const t0 = performance.now();
    const pre = prepass(st.text);
    const items = functionItems(pre.mask);
    const headerNames = new Map<string, number[]>();
    const re = /\b([A-Za-z_]\w*)\s*\(/g;
    items.forEach((it, i) => {
      re.lastIndex = it.start;
      for (let m = re.exec(pre.mask); m && m.index < it.open; m = re.exec(pre.mask)) {
        const l = headerNames.get(m[1]);
        if (!l) headerNames.set(m[1], [i]);
        else if (l[l.length - 1] !== i) l.push(i);
      }
    });
    st.partial = { pre, lines: lineStartsOf(pre.text), items, parsed: new Uint8Array(items.length), trees: [], headerNames };
    this.opened = undefined;
    st.functions = [];
    this.timing.parseMs += performance.now() - t0;
    if (st.roots) this.parseItems(st, (t) => this.rootRe.test(t));
  }

  /** Parses the not yet parsed items of a partial file that `want` accepts (one tree for all of them). */
  private parseItems(st: FileState, want: ((itemText: string) => boolean) | number[]): FunctionInfo[] {
    const pf = st.partial;
    if (!pf || st.error) return [];
    const pick: number[] = [];
    if (Array.isArray(want)) {
      for (const i of want) if (!pf.parsed[i]) pick.push(i);
    } else {
      pf.items.forEach((it, i) => {
        if (!pf.parsed[i] && want(st.text.slice(it.start, it.end))) pick.push(i);
      });
    }
    if (!pick.length) return [];
    const t0 = performance.now();
    this.timing.parses++;
    pick.sort((a, b) => a - b);
    for (const i of pick) pf.parsed[i] = 1;
    let fns: FunctionInfo[] = [];
    try {
      const tree = this.parser.parseSpans(st.text, pf.pre, pick.map((i) => [pf.items[i].start, pf.items[i].end]), this.opts.parseBudgetMs, pf.lines);
      pf.trees.push(tree);
      fns = findFunctions(tree, pf.pre.text, pf.lines);
    } catch (e) {
      st.error = `could not parse: ${(e as Error).message}`;
    }
    if (fns.length) {
      st.functions = (st.functions ?? []).concat(fns).sort((a, b) => a.start - b.start);
      if (this.index) for (const fn of fns) this.addDef(this.index, st, fn);
    }
    this.timing.parseMs += performance.now() - t0;
    return fns;
  }

  /** Name -> definitions, over the files that mention a notifier and those parsed so far. */
  private getIndex(): Map<string, Array<{ file: FileState; fn: FunctionInfo }>> {
    if (this.index) return this.index;
    const idx = new Map<string, Array<{ file: FileState; fn: FunctionInfo }>>();
    // Sorted by file name: the order files arrived in (worker threads) must not change any result.
    for (const st of this.sortedFiles()) {
      if (!st.roots && !st.parsed && !st.partial) continue;
      this.ensureParsed(st);
      this.addToIndex(idx, st);
    }
    this.index = idx;
    this.lazyDefs = undefined;
    return idx;
  }

  private sortedFiles(): FileState[] {
    return [...this.files.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }

  private addToIndex(idx: Map<string, Array<{ file: FileState; fn: FunctionInfo }>>, st: FileState): void {
    for (const fn of st.functions ?? []) this.addDef(idx, st, fn);
  }

  /** Adds a definition, keeping each name's list in (file, offset) order whatever order files were parsed in. */
  private addDef(idx: Map<string, Array<{ file: FileState; fn: FunctionInfo }>>, st: FileState, fn: FunctionInfo): void {
    const l = idx.get(fn.name);
    if (!l) {
      idx.set(fn.name, [{ file: st, fn }]);
      return;
    }
    let at = l.length;
    while (at > 0 && (l[at - 1].file.file > st.file || (l[at - 1].file === st && l[at - 1].fn.start > fn.start))) at--;
    l.splice(at, 0, { file: st, fn });
  }

  private opened: FileState[] | undefined;

  /** Partial mode: the opened files, sorted by name. */
  private openedFiles(): FileState[] {
    return (this.opened ??= this.sortedFiles().filter((st) => st.partial));
  }

  /**
   * Partial mode: the definition a call reaches, choosing as a full parse would (the caller's own file first, then the
   * first non-static definition by file name) among the parsed definitions and the not yet parsed items of opened
   * files whose header names the function. The chosen one is parsed if `gate` accepts its text; if not, it cannot
   * have a summary: null. 'none' when no opened file has a candidate.
   */
  private resolvePartial(name: string, fromFile: string, gate: (t: string) => boolean): { file: FileState; fn: FunctionInfo } | null | 'none' {
    const cands: Array<{ st: FileState; start: number; isStatic: boolean; def?: { file: FileState; fn: FunctionInfo }; item?: number }> = [];
    for (const d of this.getIndex().get(name) ?? []) cands.push({ st: d.file, start: d.fn.start, isStatic: d.fn.isStatic, def: d });
    for (const st of this.openedFiles()) {
      const pf = st.partial!;
      for (const i of pf.headerNames.get(name) ?? []) {
        if (pf.parsed[i]) continue;
        const it = pf.items[i];
        cands.push({ st, start: it.start, isStatic: /\bstatic\b/.test(pf.pre.mask.slice(it.start, it.open)), item: i });
      }
    }
    if (!cands.length) return 'none';
    cands.sort((a, b) => (a.st.file < b.st.file ? -1 : a.st.file > b.st.file ? 1 : a.start - b.start));
    const order = [...cands.filter((c) => c.st.file === fromFile), ...cands.filter((c) => !c.isStatic)];
    for (const c of order) {
      if (c.def) return c.def;
      const pf = c.st.partial!;
      const it = pf.items[c.item!];
      if (!gate(c.st.text.slice(it.start, it.end))) return null;
      const fn = this.parseItems(c.st, [c.item!]).find((f) => f.name === name);
      if (fn) return { file: c.st, fn };
      // The header named the function without defining it: the next candidate.
    }
    return null;
  }

  private lazyDefs: Map<string, FileState[]> | undefined;

  /** Files that only mention a lock are parsed when a call needs a function they seem to define. */
  private lazyDefinitions(): Map<string, FileState[]> {
    return (this.lazyDefs ??= definitionFiles(this.sortedFiles().filter((st) => !st.parsed && !st.partial && !st.roots && st.lockish && !st.error)));
  }

  /**
   * The definition a call from `fromFile` reaches: one in the same file, else the first non-static one. In partial
   * mode, definitions not parsed yet are parsed when `gate` accepts their text (others cannot have a summary).
   */
  private resolve(name: string, fromFile: string, gate: (t: string) => boolean = () => true): { file: FileState; fn: FunctionInfo } | undefined {
    const idx = this.getIndex();
    if (this.opts.partialParse) {
      const r = this.resolvePartial(name, fromFile, gate);
      if (r !== 'none') return r ?? undefined;
    }
    let defs = idx.get(name);
    if (!defs) {
      const lazy = this.lazyDefinitions().get(name);
      if (lazy) {
        for (const st of lazy) {
          if (st.parsed || st.partial || st.error) continue;
          this.ensureParsed(st);
          if (!st.partial) this.addToIndex(idx, st);
        }
        if (this.opts.partialParse) {
          const r = this.resolvePartial(name, fromFile, gate);
          return r === 'none' || r === null ? undefined : r;
        }
        defs = idx.get(name);
      }
    }
    if (!defs) return undefined;
    return defs.find((d) => d.file.file === fromFile) ?? defs.find((d) => !d.fn.isStatic) ?? undefined;
  }

  /** Per-function facts, computed lazily once per parse (a re-parse makes new FunctionInfo objects). */
  private metaOf(st: FileState, fn: FunctionInfo): FnMeta {
    let m = this.meta.get(fn);
    if (!m && st.partial) {
      // A few functions per file: test each one's own text.
      const t = st.text.slice(fn.start, fn.end);
      m = new LazyMeta(st.file, st.text, fn, st.roots && this.rootRe.test(t), (st.lockish || st.roots) && this.lockRe.test(t));
      this.meta.set(fn, m);
    }
    if (!m) {
      this.markFile(st);
      m = this.meta.get(fn)!;
    }
    return m;
  }

  /** Creates the metas of a file's functions; root/lockish come from one regex pass over the whole file. */
  private markFile(st: FileState): void {
    const fns = st.functions ?? [];
    const rootHits = new Uint8Array(fns.length);
    const lockHits = new Uint8Array(fns.length);
    const mark = (re: RegExp, hits: Uint8Array): void => {
      const g = new RegExp(re.source, 'g');
      for (const m of st.text.matchAll(g)) {
        const at = m.index ?? 0;
        // Functions are in source order: binary search the one containing `at`.
        let lo = 0;
        let hi = fns.length - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if (fns[mid].end <= at) lo = mid + 1;
          else if (fns[mid].start > at) hi = mid - 1;
          else {
            hits[mid] = 1;
            break;
          }
        }
      }
    };
    if (st.roots) mark(this.rootRe, rootHits);
    if (st.lockish || st.roots) mark(this.lockRe, lockHits);
    fns.forEach((fn, i) => this.meta.set(fn, new LazyMeta(st.file, st.text, fn, rootHits[i] === 1, lockHits[i] === 1)));
  }

  private cacheKey(st: FileState, fn: FunctionInfo): string {
    return this.metaOf(st, fn).key;
  }

  /** Runs every rule over the files (all, or `only`) and returns findings with witness paths. */
  analyze(only?: Iterable<string>): ProjectResult {
    const steps = this.analyzeSteps(only);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /** Changes to the files or the configuration (an analysis in steps stops when they change under it). */
  private mutations = 0;

  /**
   * The analysis in steps, for the language server: it yields to the event loop after about `sliceMs` of work (one
   * function at least, its callees included), so that requests and edits are answered while a heavy file is analysed.
   * Resolves to undefined, having stopped, when `cancelled()` says so or the project changed meanwhile (then the caller
   * starts again with the new texts).
   */
  async analyzeAsync(cancelled: () => boolean = () => false, sliceMs = 15): Promise<ProjectResult | undefined> {
    const start = this.mutations;
    const steps = this.analyzeSteps();
    let t0 = performance.now();
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (performance.now() - t0 < sliceMs) continue;
      await new Promise((res) => setImmediate(res));
      t0 = performance.now();
      if (cancelled() || this.mutations !== start) {
        steps.return(undefined as unknown as ProjectResult);
        return undefined;
      }
    }
  }

  /** The analysis, one step per analysed root function (see analyze and analyzeAsync). */
  private *analyzeSteps(only?: Iterable<string>): Generator<void, ProjectResult> {
    const tStart = performance.now();
    const parseBefore = this.timing.parseMs;
    const idx = this.getIndex();
    const results = new Map<string, FnResult>();
    const claimed = new Set<FnResult>();
    const inProgress = new Set<string>();
    const summaries = new Map<string, Summary | null>();
    const errors: FileError[] = [];
    for (const st of this.files.values()) if (st.error) errors.push({ file: st.file, message: st.error });

    const origin = new Map<string, { file: FileState; fn: FunctionInfo }>();
    const resultFor = (st: FileState, fn: FunctionInfo): FnResult | undefined => {
      const key = this.cacheKey(st, fn);
      origin.set(key, { file: st, fn });
      const done = results.get(key);
      if (done) return done;
      if (inProgress.has(key)) return undefined;
      inProgress.add(key);
      try {
        // A cached result is valid while the summaries it used are unchanged (checked with this function in progress,
        // so recursion through the call graph stops here).
        // Results are cached by file and function text; a function that only moved (an edit above it) is rebased.
        const meta = this.metaOf(st, fn);
        const entries = this.cache.get(meta.posFree) ?? [];
        const cached = entries.find((e) => e.start === fn.start) ?? entries.find((e) => !claimed.has(e));
        if (cached && [...cached.deps].every(([n, fp]) => fingerprintOf(n, st.file) === fp)) {
          claimed.add(cached);
          const r = cached.start === fn.start && cached.line === fn.line ? cached : rebase(cached, fn);
          results.set(key, r);
          return r;
        }
        const r = this.runFunction(st, fn, (n) => summaryFor(n, st.file));
        this.timing.runs++;
        results.set(key, r);
        claimed.add(r);
        const kept = entries.filter((e) => e !== cached).slice(-3);
        kept.push(r);
        this.cache.set(meta.posFree, kept);
        return r;
      } finally {
        inProgress.delete(key);
      }
    };
    const fingerprintOf = (name: string, fromFile: string): string => {
      const s = summaryFor(name, fromFile);
      return s ? summaryFingerprint(s) : '-';
    };
    const summaryFor = (name: string, fromFile: string): Summary | undefined => {
      const ck = `${fromFile}\0${name}`;
      if (summaries.has(ck)) return summaries.get(ck) ?? undefined;
      const def = this.resolve(name, fromFile, (t) => this.rootRe.test(t) || this.lockRe.test(t) || [...escaping.keys()].some((n) => t.includes(n)));
      if (!def) {
        summaries.set(ck, null);
        return undefined;
      }
      const meta = this.metaOf(def.file, def.fn);
      if (!meta.root && !meta.lockish && !(escaping.size && [...escaping.keys()].some((n) => meta.text.includes(n) && meta.calls.has(n)))) {
        summaries.set(ck, null);
        return undefined;
      }
      const r = resultFor(def.file, def.fn);
      if (!r) return undefined; // recursion: not cached, so a later lookup can see it
      summaries.set(ck, r.summary);
      return r.summary;
    };

    // Roots: functions that mention a notifier. Then, repeatedly, callers of functions with escaping effects.
    const analysed = new Set<string>();
    const escaping = new Map<string, 'all' | 'locked'>();
    let frontier: Array<{ file: FileState; fn: FunctionInfo }> = [];
    // The notifier API's own definitions (mmu_notifier.h, mm/mmu_notifier.c) implement the model: not audited.
    const isApi = (name: string): boolean => !!(this.model.notifier(name) || this.model.lockHelper(name) || this.model.unlockHelper(name));
    // Only the subscriber rules enabled (a subscriber fix being checked): the mm side has nothing to report.
    const mmSide = this.settings.enabledRules.some((r) => !SUBSCRIBER_RULES.includes(r));
    if (mmSide) for (const defs of idx.values()) for (const d of defs) if (d.file.roots && !isApi(d.fn.name) && this.metaOf(d.file, d.fn).root) frontier.push(d);
    for (let round = 0; frontier.length && round < 12; round++) {
      const newEscapes: string[] = [];
      for (const d of frontier) {
        const key = `${d.file.file}\0${d.fn.start}`;
        if (analysed.has(key)) continue;
        analysed.add(key);
        const r = resultFor(d.file, d.fn);
        if (r && escapes(r.summary) && !escaping.has(r.name)) {
          escaping.set(r.name, r.summary.changePte || r.summary.rangeDelta ? 'all' : 'locked');
          newEscapes.push(r.name);
        }
        yield;
      }
      // Callees analysed on demand may escape too.
      for (const r of results.values()) {
        if (escapes(r.summary) && !escaping.has(r.name)) {
          escaping.set(r.name, r.summary.changePte || r.summary.rangeDelta ? 'all' : 'locked');
          newEscapes.push(r.name);
        }
      }
      // A summary asked for before its callees were known to escape may have been turned down, or computed from
      // theirs: forget every summary answer and analyse again the functions whose callees' summaries now differ, so
      // that no result depends on the order functions were analysed in.
      summaries.clear();
      const stale: Array<{ file: FileState; fn: FunctionInfo }> = [];
      for (const [key, r] of [...results]) {
        for (const [n, fp] of r.deps) {
          if (fingerprintOf(n, r.file) === fp) continue;
          results.delete(key);
          const o = origin.get(key);
          if (o) {
            analysed.delete(`${o.file.file}\0${o.fn.start}`);
            stale.push(o);
          }
          break;
        }
      }
      if (!newEscapes.length && !stale.length) break;
      frontier = stale;
      if (!newEscapes.length) continue;
      // Partially parsed files may hold callers of escaping functions among the functions not parsed yet: parse
      // those that call a function whose effect escapes to every caller, or call one that sleeps and mention a lock.
      const allNames = newEscapes.filter((n) => escaping.get(n) === 'all');
      const callsAll = allNames.length ? new RegExp(`\\b(?:${allNames.join('|')})\\s*\\(`) : undefined;
      const callsLocked = new RegExp(`\\b(?:${newEscapes.join('|')})\\s*\\(`);
      for (const st of this.sortedFiles()) {
        if (st.partial && callsLocked.test(st.text)) this.parseItems(st, (t) => callsLocked.test(t) && (!!callsAll?.test(t) || this.lockRe.test(t)));
      }
      for (const defs of idx.values()) {
        for (const d of defs) {
          if (analysed.has(`${d.file.file}\0${d.fn.start}`) || isApi(d.fn.name)) continue;
          const meta = this.metaOf(d.file, d.fn);
          // A caller of a function that only sleeps matters only if it can hold a page-table lock.
          if (newEscapes.some((n) => meta.calls.has(n) && (escaping.get(n) === 'all' || meta.lockish))) frontier.push(d);
        }
      }
    }

    // Who is called by analysed code (then helpers defer to their callers).
    const called = new Set<string>();
    for (const r of results.values()) for (const u of r.used) called.add(u);
    const placement = new PtePlacement([...results.values()].map((r) => ({ key: `${r.file}\0${r.name}`, calls: r.pteCalls })));

    const onlySet = only ? new Set(only) : undefined;
    const incomplete: IncompleteInfo[] = [];
    const report = new FindingCollector(this.settings, (f) => this.files.get(f)?.text);
    const accept = (f: Finding, downgrade: boolean | undefined): void => report.accept(f, downgrade);
    for (const r of results.values()) {
      if (onlySet && !onlySet.has(r.file)) continue;
      if (r.incomplete) incomplete.push({ file: r.file, function: r.name, line: r.line, reason: r.incomplete });
      for (const { f, defer, pte, downgrade } of r.findings) {
        if (defer && called.has(r.name)) continue;
        if (pte && !placement.reportHere(`${r.file}\0${r.name}`, pte.viaKey)) continue;
        accept(f, downgrade);
      }
    }
    // The subscriber side: the drivers that implement notifiers (one pass over the callbacks, in steps of one callback).
    if (SubscriberPass.wanted(report.enabledRules)) {
      // Reused while the files it read are unchanged and the set of subscriber files is the same (an edit elsewhere).
      const subFiles = this.subscriberFiles();
      const last = this.lastSubscriberPass;
      const fresh = last && last.files === subFiles.map((f) => f.file).join('\0') && [...last.pass.used].every(([f, t]) => this.files.get(f)?.text === t);
      let pass: SubscriberPass;
      if (fresh) pass = last.pass;
      else {
        pass = new SubscriberPass(this, this.model, this.opts.budgetMs ?? 2000);
        this.timing.subscriberPasses++;
        for (const step of pass.steps()) {
          void step;
          yield;
        }
        this.lastSubscriberPass = { pass, files: subFiles.map((f) => f.file).join('\0') };
      }
      for (const f of pass.findings()) if (!onlySet || onlySet.has(f.file)) accept(f, false);
      for (const i of pass.incomplete) if (!onlySet || onlySet.has(i.file)) incomplete.push(i);
    }
    if (process.env.NOTIFIER_AUDIT_PROFILE) {
      for (const r of [...results.values()].sort((a, b) => b.ms - a.ms).slice(0, process.env.NOTIFIER_AUDIT_PROFILE === 'all' ? undefined : 15)) process.stderr.write(`profile ${r.ms} ms ${r.name} (${r.file}:${r.line})\n`);
    }
    const { findings, suppressed } = report.done();
    let parsed = 0;
    for (const st of this.files.values()) if (st.parsed || st.partial?.trees.length) parsed++;
    this.timing.analysisMs += performance.now() - tStart - (this.timing.parseMs - parseBefore);
    return { findings, suppressed, incomplete, errors, functionsAnalysed: results.size, filesParsed: parsed };
  }

  private runFunction(st: FileState, fn: FunctionInfo, summaryOf: (name: string) => Summary | undefined): FnResult {
    const t0 = Date.now();
    const deps = new Map<string, string>();
    let fa: FunctionAnalysis;
    try {
      fa = analyzeFunction(fn, {
        model: this.model,
        file: st.file,
        text: st.text,
        contracts: (st.partial?.pre ?? st.parsed!.pre).contracts,
        summaryOf: (name) => {
          const s = summaryOf(name);
          deps.set(name, s ? summaryFingerprint(s) : '-');
          return s;
        },
        budgetMs: this.opts.budgetMs ?? 2000,
        maxVisits: this.opts.maxVisits ?? 400000,
      });
    } catch (e) {
      const summary: Summary = { name: fn.name, file: st.file, line: fn.line, isStatic: fn.isStatic, acquires: [], releases: [], rangeDelta: 0 };
      return { name: fn.name, file: st.file, line: fn.line, start: fn.start, end: fn.end, summary, findings: [], pteCalls: [], incomplete: `analysis failed: ${(e as Error).message}`, deps, used: [], ms: Date.now() - t0 };
    }
    const findings: FnResult['findings'] = [];
    for (const rule of RULES) {
      for (const raw of rule.check?.({ model: this.model, fa }) ?? []) {
        const o = raw.obs;
        const n = o.node;
        const exitObs = o.kind === 'exitRangeOpen';
        const f: Finding = {
          rule: raw.rule,
          severity: 'warning',
          file: st.file,
          line: o.at.line,
          column: o.at.column,
          endLine: exitObs ? o.at.line : n.endPosition.row + 1,
          endColumn: exitObs ? o.at.column + 1 : n.endPosition.column + 1,
          function: fn.name,
          message: raw.message,
          detail: raw.detail,
          related: raw.related,
          path: publicPath(o.path.concat(exitObs ? [] : o.path.length && o.path[o.path.length - 1] === o.at ? [] : [])),
        };
        if (exitObs) {
          // The call node of an exit observation is the function; point at the flagged call instead.
          f.endLine = o.at.line;
          f.endColumn = o.at.column + (o.at.detail?.length ?? 1);
        }
        const hint = computeFixHint(fa, o, raw.rule, st.text);
        if (hint) f.fix = hint;
        findings.push({ f, defer: !!raw.deferToCallers, pte: raw.pteChange, downgrade: raw.downgrade });
      }
    }
    return {
      name: fn.name,
      file: st.file,
      line: fn.line,
      start: fn.start,
      end: fn.end,
      summary: fa.summary,
      findings,
      pteCalls: fa.observations.flatMap((o) => (o.kind === 'changePte' && (o.viaKey || !o.via) ? [{ viaKey: o.viaKey, site: `${o.at.line}:${o.at.column}`, bracketed: o.ranges.length > 0 }] : [])),
      incomplete: fa.incomplete,
      deps,
      used: fa.usedSummaries,
      ms: Date.now() - t0,
    };
  }

  /**
   * Would rewriting `file` to `newText` fix the finding of `rule` in function `fnName`? Both texts are analysed in a
   * scratch project (same kernel model and settings; the function alone, as an editor sees one file): the rewrite
   * must remove the rule's problem without adding another lock or range problem or a parse error.
   */
  checkRewrite(file: string, fnName: string, rule: string, newText: string): { ok: boolean; reason?: string } {
    const old = this.files.get(file)?.text;
    if (old === undefined) return { ok: false, reason: 'file not loaded' };
    // A scratch project with the same kernel model and settings, fully parsed (as an editor sees the files).
    const scratch = (settings = this.settings): Project => new Project(this.parser, { ...this.opts, partialParse: false, settings });
    if (SUBSCRIBER_RULES.includes(rule)) {
      // The callees the subscriber walk follows from the rewritten file: those of its directory.
      const dir = file.slice(0, file.lastIndexOf('/') + 1);
      const others = [...this.files.values()].filter((st) => st.file !== file && !st.error && st.file.startsWith(dir) && !st.file.slice(dir.length).includes('/'));
      return checkSubscriberRewrite(scratch({ ...this.settings, enabledRules: [...SUBSCRIBER_RULES] }), file, rule, old, newText, others);
    }
    return checkFunctionRewrite(scratch(), file, fnName, rule, old, newText);
  }

  /** For tests and debugging: the analysis of one function. */
  analyzeOne(file: string, name: string): FunctionAnalysis | undefined {
    const st = this.files.get(file);
    if (!st) return undefined;
    this.ensureParsed(st);
    const fn = st.functions?.find((f) => f.name === name);
    if (!fn) return undefined;
    return analyzeFunction(fn, {
      model: this.model, file, text: st.text, contracts: (st.partial?.pre ?? st.parsed!.pre).contracts,
      summaryOf: () => undefined, budgetMs: 2000, maxVisits: 400000,
    });
  }

  dispose(): void {
    for (const f of this.files.values()) this.deleteTrees(f);
    this.files.clear();
  }
}
