// The subscriber pass of a project analysis: the subscriber rules (server/src/subscriber) run over the project's files
// through a narrow view of the project, and their findings take the engine's public Finding shape.
import { checkSubscriberSteps, type SubFinding, type SubscriberView } from '../subscriber/check';
import { buildGraph, type FnRef, type Graph } from '../subscriber/walk';
import type { KernelModel } from '../kernel/model';
import type { FunctionInfo } from '../parse/syntax';
import type { Finding, IncompleteInfo } from './types';

export const SUBSCRIBER_RULES = ['nonblocking-invalidate-sleeps', 'atomic-callback-sleeps', 'interval-sequence', 'register-under-mmap-lock'];

/** What the pass needs of a project. */
export interface ProjectFiles {
  allDefinitions(name: string, fromFile: string): FnRef[];
  functionsMatching(file: string, want: (text: string) => boolean): FnRef[];
  subscriberFiles(): Array<{ file: string; text: string }>;
}

/** Work units per callback walk (a CFG node visit or a call resolution is one). */
const MAX_TICKS = 400000;

export class SubscriberPass {
  readonly incomplete: IncompleteInfo[] = [];
  private out: SubFinding[] = [];
  private readonly graphs = new WeakMap<FunctionInfo, Graph>();
  private ticks = 0;
  private t0 = 0;

  static wanted(enabled: Set<string>): boolean {
    return SUBSCRIBER_RULES.some((r) => enabled.has(r));
  }

  constructor(private readonly project: ProjectFiles, private readonly model: KernelModel, private readonly budgetMs: number) {}

  /** Runs the rules, one step per callback walk (the language server answers requests between steps). */
  *steps(): Generator<void> {
    const files = this.project.subscriberFiles();
    if (!files.length) return;
    const view: SubscriberView = {
      model: this.model,
      files: () => files,
      defs: (n, f) => this.touch(this.project.allDefinitions(n, f)),
      functions: (f, want) => this.touch(this.project.functionsMatching(f, want)),
      graph: (r) => this.graph(r),
      tick: () => this.tick(),
    };
    for (const f of files) this.used.set(f.file, f.text);
    this.ticks = 0;
    this.t0 = performance.now();
    const steps = checkSubscriberSteps(view, (file, fn, line, reason) => this.incomplete.push({ file, function: fn, line, reason }), () => {
      this.ticks = 0;
      this.t0 = performance.now();
    });
    for (;;) {
      let r: IteratorResult<void, SubFinding[]>;
      try {
        r = steps.next();
      } catch (e) {
        // Never the whole analysis: the mm side's findings stand, and the run says what was not checked.
        this.incomplete.push({ file: '', function: '', line: 0, reason: `subscriber rules not run: ${(e as Error).message}` });
        this.out = [];
        return;
      }
      if (r.done) {
        this.out = r.value;
        return;
      }
      yield;
    }
  }

  /** Files the pass read (name -> text): its result holds while they are unchanged and no subscriber file appears. */
  readonly used = new Map<string, string>();

  private touch(refs: FnRef[]): FnRef[] {
    for (const r of refs) this.used.set(r.file, r.text);
    return refs;
  }

  private graph(r: FnRef): Graph {
    let g = this.graphs.get(r.fn);
    if (!g) this.graphs.set(r.fn, (g = buildGraph(r.fn, (n) => this.model.isNoreturn(n))));
    return g;
  }

  private tick(): void {
    if (++this.ticks > MAX_TICKS) throw new Error(`over the budget of ${MAX_TICKS} steps`);
    if ((this.ticks & 1023) === 0 && performance.now() - this.t0 > this.budgetMs * 5) throw new Error(`over the time budget of ${this.budgetMs * 5} ms`);
  }

  findings(): Finding[] {
    return this.out.map(toFinding);
  }
}

function toFinding(s: SubFinding): Finding {
  const a = s.node.startPosition;
  const b = s.node.endPosition;
  const f: Finding = {
    rule: s.rule,
    severity: s.severity ?? 'error',
    file: s.file,
    line: a.row + 1,
    column: a.column + 1,
    endLine: b.row + 1,
    endColumn: b.column + 1,
    function: s.fn,
    message: s.message,
    detail: s.detail,
    related: s.related,
    path: s.path,
    variant: s.variant,
  };
  if (s.blockableFix) f.blockableFix = s.blockableFix;
  if (s.noFix) f.noFix = s.noFix;
  return f;
}
