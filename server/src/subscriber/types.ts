// The subscriber rules' shared shapes: the view of the project they read, and their findings.
import type { KernelModel } from '../kernel/model';
import type { FnRef, Graph } from './walk';
import type { Node } from '../parse/syntax';
import type { BlockableFix, PathEvent, RelatedInfo, Severity } from '../engine/types';
import type { CallbackDecl } from './ops';

export interface SubscriberView {
  model: KernelModel;
  /** Files that mention notifier ops, interval notifiers or a registration. */
  files(): Array<{ file: string; text: string }>;
  defs(name: string, fromFile: string): FnRef[];
  /** A file's function definitions whose text `want` accepts (parsed on demand). */
  functions(file: string, want: (text: string) => boolean): FnRef[];
  graph(ref: FnRef): Graph;
  /** Counts work; throws BudgetExceeded-like errors over the budget. */
  tick(): void;
}

export type SubscriberRule = 'nonblocking-invalidate-sleeps' | 'atomic-callback-sleeps' | 'interval-sequence' | 'register-under-mmap-lock';

export interface SubFinding {
  rule: SubscriberRule;
  variant: string;
  file: string;
  /** The function that contains the reported node. */
  fn: string;
  node: Node;
  message: string;
  detail: string;
  related: RelatedInfo[];
  path: PathEvent[];
  severity?: Severity;
  /** For the quick-fix of nonblocking-invalidate-sleeps: where the test goes, and how the version spells it. */
  blockableFix?: BlockableFix;
  /** No fix: why (shown in the hover). */
  noFix?: string;
}

/** A callback with its definition. */
export type Callback = CallbackDecl & { ref: FnRef };
