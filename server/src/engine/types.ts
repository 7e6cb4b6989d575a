// Public data shapes of the analysis engine: findings, witness paths, results. Shared by CLI, LSP server and simulator.

// The witness-path format is the simulator's input; it is defined once, there (server -> simulator types only).
import type { PathEvent, SourcePos } from '../../../simulator/src/types';

export type { PathEvent, PathEventKind, SourcePos } from '../../../simulator/src/types';

export interface RelatedInfo extends SourcePos {
  message: string;
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** Facts the quick-fix needs, computed by the engine (offsets are UTF-16 offsets into the original text). */
export interface FixHint {
  kind: 'insert-range' | 'move-out-of-lock';
  /** Offset of the start of the statement that takes the lock (or of the flagged statement when no lock). */
  startInsertOffset: number;
  /** Offsets just after each statement that releases the lock on a path to exit (or after the flagged statement). */
  endInsertOffsets: number[];
  /** Offset just after the last local declaration at the top of the function body (where new locals go). */
  declInsertOffset: number;
  /** Indentation of the function body's statements. */
  indent: string;
  /** Arguments of the set_pte_at_notify call: [mm, address, ptep, pte]. */
  args: string[];
  /** For move-out-of-lock: range of the offending statement and where the lock was taken / released. */
  stmtStart?: number;
  stmtEnd?: number;
  lockStmtOffset?: number;
  unlockStmtEndOffsets?: number[];
  /** vma expression in scope, when one is visible (parameter or local named vma / vmf->vma). */
  vma?: string;
  /**
   * A *_notify macro under the lock whose expansion sleeps: split it as 2ec74c3 did. `range`: the range goes around
   * the locked section (start before `lockStmtOffset`, end after each of `splitEnds`) and the plain operation stays;
   * `page`: the plain operation stays and invalidate_page follows each of `splitEnds`.
   */
  macro?: { name: string; plain: string; nameOffset: number; kind: 'range' | 'page'; huge: boolean; splitEnds: number[] };
}

export interface Finding {
  rule: string;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  function: string;
  message: string;
  related: RelatedInfo[];
  path: PathEvent[];
  /** Why it matters on this version (the message is one short line): shown in the hover and as a note. */
  detail?: string;
  /** For suppressed findings: the reason written in the comment. */
  suppressedReason?: string;
  fix?: FixHint;
  /** Subscriber rules: which form of the contract is broken ("sleeps", "no-retry", ...); the simulator reads it. */
  variant?: string;
  /** nonblocking-invalidate-sleeps: where the blockable test goes in the callback, spelled for its version. */
  blockableFix?: BlockableFix;
  /** Why no quick-fix is offered (shown in the hover). */
  noFix?: string;
}

export interface BlockableFix {
  /** The callback's file (the finding may sit in a callee in another file). */
  file: string;
  callback: string;
  /** Offset of the start of the line of the callback statement the test goes before. */
  offset: number;
  indent: string;
  /** The condition that is true when the range is blockable, in the version's spelling. */
  cond: string;
  /** What the callback returns when it cannot block: -EAGAIN, or false for an interval notifier. */
  bail: string;
  /** The sleeping lock statement at `offset`, rewritten as lock-if-blockable-else-trylock-or-bail. */
  lockCall?: { name: string; trylock: string; arg: string; stmtStart: number; stmtEnd: number };
}

export interface IncompleteInfo {
  file: string;
  function: string;
  line: number;
  reason: string;
}

export interface FileError {
  file: string;
  message: string;
}

export interface KernelVersion {
  major: number;
  minor: number;
  sublevel?: number;
  /** Where the version came from: "option", "Makefile <path>", "default". */
  source: string;
}

export interface AuditResult {
  tool: string;
  version: string;
  kernelVersion: string;
  filesScanned: number;
  findings: Finding[];
  suppressed: Finding[];
  incomplete: IncompleteInfo[];
  errors: FileError[];
  /** When the paths lie in several kernel trees: each tree's root and the version its files were analysed with. */
  trees?: Array<{ root: string; kernelVersion: string; paths: string[] }>;
}
