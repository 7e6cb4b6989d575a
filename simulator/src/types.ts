// Data shapes of the simulator: its input (a witness path, the format the engine's findings carry) and its output (trace, result).

/** 1-based line, 1-based column counted in UTF-16 code units (as LSP and tree-sitter/wasm report them). */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export type PathEventKind =
  | 'entry' // function entry
  | 'lock' // a page-table lock is taken (lock: the lock expression)
  | 'unlock' // a page-table lock is released
  | 'range_start' // mmu_notifier_invalidate_range_start (or a helper that opens one)
  | 'range_end'
  | 'set_pte_at_notify' // set_pte_at_notify()/mmu_notifier_change_pte()
  | 'clear_flush_notify' // ptep_clear_flush_notify() and friends
  | 'clear_flush' // the plain clear inside a *_notify macro (ptep_clear_flush, pmdp_clear_flush): no notifier
  | 'notifier_call' // another notifier call (callee: name, maySleep: in the kernel version used)
  | 'call' // a call into a function whose summary matters (callee)
  | 'branch' // a condition and the branch taken (detail: "cond -> true|false")
  | 'goto'
  | 'return'
  | 'sleep'; // any other may-sleep call the model knows

export interface PathEvent extends SourcePos {
  event: PathEventKind;
  /** Free text: lock expression, callee name, condition text. */
  detail?: string;
  /** The lock expression for lock/unlock events (normalised, e.g. "vmf->ptl"). */
  lock?: string;
  callee?: string;
  maySleep?: boolean;
  /** Set when the event happened inside a called function (its name), via a summary. */
  via?: string;
  /**
   * For a *_notify macro: what it expands to in the audited kernel version, as the engine's model says
   * ("mmu_notifier_invalidate_range_start + mmu_notifier_invalidate_range_end"). The simulator replays those calls.
   */
  expansion?: string;
}

/** The part of an engine Finding the simulator reads. */
export interface FindingInput {
  rule: string;
  path: PathEvent[];
  file?: string;
  line?: number;
  function?: string;
  /** Which form of the rule's pattern the engine saw (subscriber-side rules: 'sleeps', 'no-retry', 'retry-ignored', 'retry-unlocked', 'no-set-seq', 'register-locked'). */
  variant?: string;
}

export type SubscriberKind = 'kvm' | 'odp' | 'sva' | 'device';
/** What KVM's change_pte does with the new PTE (depends on the kernel version; "install" is the arm64 stage-2 behaviour). */
export type KvmMode = 'update-existing' | 'warn-only' | 'skip-if-count-0' | 'install';
/** The page-replacement pattern around set_pte_at_notify: KSM merge (new page read-only, shared) or COW (new private writable copy). */
export type Pattern = 'ksm' | 'cow';
/** thread: another kernel thread replaying a fixed program (a driver thread, a mapping path, a faulting thread). */
export type ActorKind = 'path' | 'fault' | 'device' | 'invalidation' | 'allocator' | 'thread';

export interface SimulateOptions {
  subscriber?: 'kvm' | 'odp' | 'sva' | 'all' | 'device';
  /** "X.Y", e.g. "6.1". */
  kernelVersion?: string;
  /** Depth bound of the exploration (number of steps in a schedule). */
  bound?: number;
  /** Overrides the KVM change_pte behaviour derived from the kernel version. */
  kvmMode?: KvmMode;
  pattern?: Pattern;
  /** Add or remove the concurrent munmap-like invalidation (default: on for a KVM subscriber). */
  concurrentInvalidation?: boolean;
  /** Safety valve for huge spaces: stop after this many distinct states (default 200000). */
  maxStates?: number;
}

export interface SubscriberSpec {
  id: string;
  kind: SubscriberKind;
  label: string;
  hasChangePte: boolean;
  pins: boolean;
  /** A sleeping lock taken by the callbacks and held by the fault handler across its page-table walk (ODP's umem rwsem). */
  sleepingLock?: string;
  kvmMode?: KvmMode;
  /** The fix for the two-open-ranges hazard: act on change_pte only when exactly one range is open. */
  guardCountOne?: boolean;
}

export interface ActorSpec {
  id: string;
  kind: ActorKind;
  label: string;
  /** For fault and device actors: the subscriber they belong to. */
  subscriber?: string;
  /** Subscriber-side scenarios: the lock or completion this thread holds while it waits (what the flagged callback sleeps on). */
  holds?: string;
}

export interface Scenario {
  rule: string;
  kernelVersion: string;
  pattern: Pattern;
  /** What the simulated code does, in the words of its kernel function ("THP collapse", "KSM merge", "copy-on-write"). */
  patternLabel: string;
  subscribers: SubscriberSpec[];
  actors: ActorSpec[];
  /** The secondary MMU holds a translation of OLD when the path starts. */
  initialShadow: boolean;
  bound: number;
  maxStates: number;
  /** Plain-language notes on what the kernel version implies. */
  notes: string[];
  /** Subscriber-side rules: the variant of the pattern replayed. */
  variant?: string;
}

/** I1..I6 of hazards.md; I7: the flagged path returns with an invalidate range it opened still open. */
export type InvariantId = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I7';

export interface Violation {
  invariant: InvariantId;
  step: number;
  explanation: string;
}

export interface PteView {
  page: string;
  writable: boolean;
}

export interface Snapshot {
  pte: PteView | null;
  shadow: { subscriber: string; pte: PteView | null; openRanges: number; seq: number }[];
  pages: { id: string; refcount: number; mapcount: number; state: 'live' | 'freed' | 'reused'; content: string }[];
  locks: { lock: string; holder: string | null }[];
  threads: { id: string; preempt: number; held: string[]; blockedOn: string | null; nonBlock?: number }[];
  openRanges: string[];
}

export interface Step {
  n: number;
  actor: string;
  event: string;
  source?: SourcePos;
  change: string;
  state: Snapshot;
  invariants: 'hold' | 'broken';
  /** The first invariant broken at this step (all of them are in the result's violations). */
  violation?: Violation;
}

export interface VariantResult {
  hazard: boolean;
  violations: Violation[];
  steps: Step[];
  statesExplored: number;
  /** States discovered when the first invariant-breaking transition was found (null when none). */
  statesToFirstViolation: number | null;
  /** True when the whole space within the bound was explored (false: stopped at the shown hazard or at maxStates). */
  exhaustive: boolean;
  /** True when some schedule was cut by the depth bound. */
  boundReached: boolean;
  path: PathEvent[];
  summary: string;
}

export interface SimulationResult extends VariantResult {
  scenario: Scenario;
  fixed: VariantResult & { fixDescription: string };
  /**
   * Before v3.7 an unbracketed set_pte_at_notify() was correct (change_pte fell back to invalidate_page): the flagged
   * path is replayed with those semantics (no hazard) and again with the v3.7 to v6.9 ones, which a backport of the
   * notifier core brings, where it is the bug. Absent on other versions.
   */
  laterSemantics?: VariantResult & { kernelVersion: string; note: string };
}
