// The rule interface: each rule turns the engine's observations of one function into findings.
import type { FunctionAnalysis, Observation } from '../dataflow/analyze';
import type { KernelModel } from '../kernel/model';
import type { Ev } from '../dataflow/state';
import type { PathEvent, RelatedInfo } from '../engine/types';

export interface RuleMeta {
  id: string;
  title: string;
  /** What it finds, why it matters, the commit behind it, what it cannot see. */
  help: string;
  introducedBy: string;
  limits: string;
}

export interface RawFinding {
  rule: string;
  obs: Observation;
  /** One short line: what and where (and the kernel version). */
  message: string;
  /** The rest: why it matters on this version, what the finding relies on. Shown in the hover and as a note. */
  detail?: string;
  related: RelatedInfo[];
  /** Dropped when analysed code calls the function: its callers are then checked at their call sites. */
  deferToCallers?: boolean;
  /**
   * An unbracketed PTE change (rule unbracketed-change-pte): placed over the call graph, at the set_pte_at_notify()
   * or at the callers that follow no bracket-in-the-caller convention. `viaKey` names the called function ("file\0name")
   * when the change happens inside it.
   */
  pteChange?: { viaKey?: string };
  /** A warning at most (the code was correct by design in this version; the rule's error severity does not apply). */
  downgrade?: boolean;
}

export interface RuleContext {
  model: KernelModel;
  fa: FunctionAnalysis;
}

export interface Rule {
  meta: RuleMeta;
  /** The mm-side rules check each function's observations; the subscriber rules have none (their own pass finds them). */
  check?(ctx: RuleContext): RawFinding[];
}

export function rel(ev: Ev, message: string): RelatedInfo {
  return { file: ev.file, line: ev.line, column: ev.column, message };
}

/** The public form of a witness path: internal offsets stripped. */
export function publicPath(path: Ev[]): PathEvent[] {
  return path.map((e) => {
    const { stmtStart: _a, stmtEnd: _b, offset: _c, ...rest } = e;
    void _a; void _b; void _c;
    return rest;
  });
}
