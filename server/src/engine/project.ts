// The engine's entry point: a set of C files, their parses and function analyses, and the findings over all of them.
import { createHash } from 'node:crypto';
import { CParser, type ParsedText } from '../parse/parser';
import { findFunctions, type FunctionInfo } from '../parse/syntax';
import { analyzeFunction, type FunctionAnalysis } from '../dataflow/analyze';
import { escapes, isTrivial, summaryFingerprint, type Summary } from '../dataflow/summary';
import { KernelModel } from '../kernel/model';
import { RULES } from '../rules';
import { publicPath } from '../rules/types';
import { computeFixHint } from './fixhint';
import { findSuppression } from './suppress';
import type { Settings } from '../config';
import type { FileError, Finding, IncompleteInfo, KernelVersion } from './types';

export interface ProjectOptions {
  settings: Settings;
  kernelVersion: KernelVersion | null;
  /** Text and path of the audited tree's include/linux/mmu_notifier.h. */
  header?: { text: string; path: string };
  /** Time budget per function analysis. */
  budgetMs?: number;
  maxVisits?: number;
  /** Time budget for parsing one file. */
  parseBudgetMs?: number;
}

interface FileState {
  file: string;
  text: string;
  parsed?: ParsedText;
  functions?: FunctionInfo[];
  error?: string;
  /** Mentions a notifier name (its functions are roots of the analysis). */
  roots: boolean;
  /** Mentions a lock helper or ptl (its functions may matter as callees). */
  lockish: boolean;
}

interface FnResult {
  name: string;
  file: string;
  line: number;
  summary: Summary;
  findings: Array<{ f: Finding; defer: boolean }>;
  incomplete?: string;
  deps: Map<string, string>;
  used: string[];
  ms: number;
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

const LOCKISH = /\bptl|ptl\b|page_table_lock|pte_offset_map_lock|get_locked_pte|page_check_address|page_vma_mapped_walk|pmd_lock|pud_lock|huge_pte_lock|trans_huge_lock|follow_pte|pte_unmap_unlock|_lockptr/;

export class Project {
  private readonly files = new Map<string, FileState>();
  private model!: KernelModel;
  private settings!: Settings;
  private opts!: ProjectOptions;
  private rootRe!: RegExp;
  private lockRe!: RegExp;
  private cache = new Map<string, FnResult>();
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
    this.rootRe = this.model.notifierRegex();
    const extra = [...opts.settings.lockHelpers.map((h) => h.name), ...opts.settings.unlockHelpers.map((h) => h.name)];
    this.lockRe = extra.length ? new RegExp(`${LOCKISH.source}|\\b(?:${extra.join('|')})\\b`) : LOCKISH;
    this.cache.clear();
    for (const f of this.files.values()) {
      f.roots = this.rootRe.test(f.text);
      f.lockish = this.lockRe.test(f.text);
    }
  }

  get kernelModel(): KernelModel {
    return this.model;
  }

  /** Quick textual test: could this text hold anything the rules look at? */
  static prefilter(text: string, model?: KernelModel): boolean {
    return (model ? model.notifierRegex() : /mmu_notifier|_notify\b/).test(text);
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
        st.functions = findFunctions(st.parsed.tree);
      } catch (e) {
        st.error = `could not parse: ${(e as Error).message}`;
      }
      if (st.parsed?.tree !== old.parsed.tree) old.parsed.tree.delete();
    }
    this.files.set(file, st);
    this.index = undefined;
  }

  /** Records a file that could not be read or is not C (reported, not analysed). */
  setFileError(file: string, message: string): void {
    this.removeFile(file);
    this.files.set(file, { file, text: '', error: message, roots: false, lockish: false });
  }

  removeFile(file: string): void {
    const old = this.files.get(file);
    old?.parsed?.tree.delete();
    this.files.delete(file);
    this.index = undefined;
  }

  /** The parse of a file (parsing it now if needed); undefined when it failed. */
  parsedFile(file: string): ParsedText | undefined {
    const st = this.files.get(file);
    if (!st) return undefined;
    this.ensureParsed(st);
    return st.parsed;
  }

  private ensureParsed(st: FileState): void {
    if (st.parsed || st.error) return;
    try {
      st.parsed = this.parser.parse(st.text, undefined, this.opts.parseBudgetMs);
      st.functions = findFunctions(st.parsed.tree);
    } catch (e) {
      st.error = `could not parse: ${(e as Error).message}`;
    }
  }

  /** Name -> definitions, over the files that mention a notifier and those parsed so far. */
  private getIndex(): Map<string, Array<{ file: FileState; fn: FunctionInfo }>> {
    if (this.index) return this.index;
    const idx = new Map<string, Array<{ file: FileState; fn: FunctionInfo }>>();
    for (const st of this.files.values()) {
      if (!st.roots && !st.parsed) continue;
      this.ensureParsed(st);
      this.addToIndex(idx, st);
    }
    this.index = idx;
    this.lazyDefs = undefined;
    return idx;
  }

  private addToIndex(idx: Map<string, Array<{ file: FileState; fn: FunctionInfo }>>, st: FileState): void {
    for (const fn of st.functions ?? []) {
      let l = idx.get(fn.name);
      if (!l) idx.set(fn.name, (l = []));
      l.push({ file: st, fn });
    }
  }

  private lazyDefs: Map<string, FileState[]> | undefined;

  /** Files that only mention a lock are parsed when a call needs a function they seem to define. */
  private lazyDefinitions(): Map<string, FileState[]> {
    if (this.lazyDefs) return this.lazyDefs;
    const m = new Map<string, FileState[]>();
    for (const st of this.files.values()) {
      if (st.parsed || st.roots || !st.lockish || st.error) continue;
      for (const d of st.text.matchAll(/^[A-Za-z_][^\n;=]*?\b([A-Za-z_]\w*)\s*\(/gm)) {
        let l = m.get(d[1]);
        if (!l) m.set(d[1], (l = []));
        if (!l.includes(st)) l.push(st);
      }
    }
    this.lazyDefs = m;
    return m;
  }

  private resolve(name: string, fromFile: string): { file: FileState; fn: FunctionInfo } | undefined {
    const idx = this.getIndex();
    let defs = idx.get(name);
    if (!defs) {
      const lazy = this.lazyDefinitions().get(name);
      if (lazy) {
        for (const st of lazy) {
          if (st.parsed || st.error) continue;
          this.ensureParsed(st);
          this.addToIndex(idx, st);
        }
        defs = idx.get(name);
      }
    }
    if (!defs) return undefined;
    return defs.find((d) => d.file.file === fromFile) ?? defs.find((d) => !d.fn.isStatic) ?? undefined;
  }

  private fnText(st: FileState, fn: FunctionInfo): string {
    return st.text.slice(fn.start, fn.end);
  }

  private cacheKey(st: FileState, fn: FunctionInfo): string {
    const h = createHash('sha1').update(this.fnText(st, fn)).digest('base64');
    return `${st.file}\0${fn.start}\0${fn.line}\0${h}`;
  }

  /** Runs every rule over the files (all, or `only`) and returns findings with witness paths. */
  analyze(only?: Iterable<string>): ProjectResult {
    const idx = this.getIndex();
    const results = new Map<string, FnResult>();
    const inProgress = new Set<string>();
    const summaries = new Map<string, Summary | null>();
    const errors: FileError[] = [];
    for (const st of this.files.values()) if (st.error) errors.push({ file: st.file, message: st.error });

    const resultFor = (st: FileState, fn: FunctionInfo): FnResult | undefined => {
      const key = this.cacheKey(st, fn);
      const done = results.get(key);
      if (done) return done;
      if (inProgress.has(key)) return undefined;
      inProgress.add(key);
      try {
        // A cached result is valid while the summaries it used are unchanged (checked with this function in progress,
        // so recursion through the call graph stops here).
        const cached = this.cache.get(key);
        if (cached && [...cached.deps].every(([n, fp]) => fingerprintOf(n, st.file) === fp)) {
          results.set(key, cached);
          return cached;
        }
        const r = this.runFunction(st, fn, (n) => summaryFor(n, st.file));
        results.set(key, r);
        this.cache.set(key, r);
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
      const def = this.resolve(name, fromFile);
      if (!def) {
        summaries.set(ck, null);
        return undefined;
      }
      const text = this.fnText(def.file, def.fn);
      if (!this.rootRe.test(text) && !this.lockRe.test(text) && !escapingRe?.test(text)) {
        summaries.set(ck, null);
        return undefined;
      }
      const r = resultFor(def.file, def.fn);
      if (!r) return undefined; // recursion: not cached, so a later lookup can see it
      summaries.set(ck, r.summary);
      return r.summary;
    };

    // Roots: functions that mention a notifier. Then, repeatedly, callers of functions with escaping effects.
    let escapingRe: RegExp | undefined;
    const analysed = new Set<string>();
    const escaping = new Map<string, 'all' | 'locked'>();
    let frontier: Array<{ file: FileState; fn: FunctionInfo }> = [];
    // The notifier API's own definitions (mmu_notifier.h, mm/mmu_notifier.c) implement the model: not audited.
    const isApi = (name: string): boolean => !!(this.model.notifier(name) || this.model.lockHelper(name) || this.model.unlockHelper(name));
    for (const defs of idx.values()) for (const d of defs) if (d.file.roots && !isApi(d.fn.name) && this.rootRe.test(this.fnText(d.file, d.fn))) frontier.push(d);
    for (let round = 0; frontier.length && round < 8; round++) {
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
      }
      // Callees analysed on demand may escape too.
      for (const r of results.values()) {
        if (escapes(r.summary) && !escaping.has(r.name)) {
          escaping.set(r.name, r.summary.changePte || r.summary.rangeDelta ? 'all' : 'locked');
          newEscapes.push(r.name);
        }
      }
      if (!newEscapes.length) break;
      escapingRe = new RegExp(`\\b(?:${[...escaping.keys()].join('|')})\\b`);
      const re = new RegExp(`\\b(?:${newEscapes.join('|')})\\s*\\(`);
      frontier = [];
      for (const defs of idx.values()) {
        for (const d of defs) {
          if (analysed.has(`${d.file.file}\0${d.fn.start}`) || isApi(d.fn.name)) continue;
          const text = this.fnText(d.file, d.fn);
          const m = re.exec(text);
          if (!m) continue;
          const name = /\b(\w+)\s*\($/.exec(m[0])?.[1] ?? '';
          if (escaping.get(name) === 'locked' && !this.lockRe.test(text)) continue;
          frontier.push(d);
        }
      }
    }

    // Who is called by analysed code (then helpers defer to their callers).
    const called = new Set<string>();
    for (const r of results.values()) for (const u of r.used) called.add(u);

    const onlySet = only ? new Set(only) : undefined;
    const findings: Finding[] = [];
    const suppressed: Finding[] = [];
    const incomplete: IncompleteInfo[] = [];
    const seen = new Set<string>();
    const linesOf = new Map<string, string[]>();
    const enabled = new Set(this.settings.enabledRules);
    for (const r of results.values()) {
      if (onlySet && !onlySet.has(r.file)) continue;
      if (r.incomplete) incomplete.push({ file: r.file, function: r.name, line: r.line, reason: r.incomplete });
      for (const { f, defer } of r.findings) {
        if (!enabled.has(f.rule)) continue;
        if (defer && called.has(r.name)) continue;
        const k = `${f.rule}\0${f.file}\0${f.line}\0${f.column}`;
        if (seen.has(k)) continue;
        seen.add(k);
        let lines = linesOf.get(f.file);
        if (!lines) linesOf.set(f.file, (lines = (this.files.get(f.file)?.text ?? '').split('\n')));
        const sup = findSuppression(lines, f.line, f.rule);
        const out = { ...f, severity: this.settings.severity[f.rule] ?? f.severity };
        if (sup) suppressed.push({ ...out, suppressedReason: sup.reason || '(no reason given)' });
        else findings.push(out);
      }
    }
    if (process.env.NOTIFIER_AUDIT_PROFILE) {
      for (const r of [...results.values()].sort((a, b) => b.ms - a.ms).slice(0, 15)) process.stderr.write(`profile ${r.ms} ms ${r.name} (${r.file}:${r.line})\n`);
    }
    const order = (a: Finding, b: Finding): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : 1));
    findings.sort(order);
    suppressed.sort(order);
    let parsed = 0;
    for (const st of this.files.values()) if (st.parsed) parsed++;
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
        contracts: st.parsed!.pre.contracts,
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
      return { name: fn.name, file: st.file, line: fn.line, summary, findings: [], incomplete: `analysis failed: ${(e as Error).message}`, deps, used: [], ms: Date.now() - t0 };
    }
    if (process.env.NA_SUMMARY === fn.name) process.stderr.write(`summary ${JSON.stringify(fa.summary, (k, v) => (k === 'path' ? undefined : v), 1)}\n`);
    const findings: FnResult['findings'] = [];
    for (const rule of RULES) {
      for (const raw of rule.check({ model: this.model, fa })) {
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
        findings.push({ f, defer: !!raw.deferToCallers });
      }
    }
    return {
      name: fn.name,
      file: st.file,
      line: fn.line,
      summary: fa.summary,
      findings,
      incomplete: fa.incomplete,
      deps,
      used: fa.usedSummaries,
      ms: Date.now() - t0,
    };
  }

  /** For tests and debugging: the analysis of one function. */
  analyzeOne(file: string, name: string): FunctionAnalysis | undefined {
    const st = this.files.get(file);
    if (!st) return undefined;
    this.ensureParsed(st);
    const fn = st.functions?.find((f) => f.name === name);
    if (!fn) return undefined;
    return analyzeFunction(fn, {
      model: this.model, file, text: st.text, contracts: st.parsed!.pre.contracts,
      summaryOf: () => undefined, budgetMs: 2000, maxVisits: 400000,
    });
  }

  dispose(): void {
    for (const f of this.files.values()) f.parsed?.tree.delete();
    this.files.clear();
  }
}

export { isTrivial };
