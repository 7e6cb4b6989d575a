// simulateFinding: scenario from the finding, exploration of the flagged path and of the fixed one, traces for both.
import { buildModel, type Action } from './actors';
import { demoSchedule, explore } from './explore';
import { fixPath } from './fix';
import { buildScenario } from './scenario';
import { isSubscriberRule, normalizeSubscriberPath } from './subscriber';
import { expandMacros } from './expand';
import { changePteFallsBack, parseVersion } from './version';
import { buildSteps } from './trace';
import type { FindingInput, PathEvent, Scenario, SimulateOptions, SimulationResult, VariantResult } from './types';

const KINDS = new Set(['entry', 'lock', 'unlock', 'range_start', 'range_end', 'set_pte_at_notify', 'clear_flush_notify', 'clear_flush', 'notifier_call', 'call', 'branch', 'goto', 'return', 'sleep']);

/** Keeps only well-formed events, so odd input degrades to a shorter path instead of an exception. */
function cleanPath(path: unknown): PathEvent[] {
  if (!Array.isArray(path)) return [];
  return path.filter((e): e is PathEvent => typeof e === 'object' && e !== null && KINDS.has(String((e as PathEvent).event)));
}

/**
 * A witness path stops at the flagged event. The function goes on: it releases the locks it still holds before it
 * returns. Those releases are appended (marked as beyond the witness), so that the replay sees the unlock where
 * stale secondary translations become visible (I3), and a fix that ends a range "after the unlock" really is after it.
 */
export function completePath(path: PathEvent[]): PathEvent[] {
  const held: PathEvent[] = [];
  for (const e of path) {
    if (e.event === 'lock') held.push(e);
    else if (e.event === 'unlock') {
      const i = held.map((h) => h.lock ?? h.detail).lastIndexOf(e.lock ?? e.detail);
      if (i >= 0) held.splice(i, 1);
    }
  }
  if (held.length === 0) return path;
  const last = path[path.length - 1] as PathEvent;
  const tail: PathEvent[] = held.reverse().map((h) => ({
    file: last.file,
    line: last.line,
    column: last.column,
    event: 'unlock',
    lock: h.lock,
    detail: `${h.lock ?? 'the lock'} released later in the function (beyond the witness path)`,
  }));
  return [...path, ...tail];
}

/** guide: the flagged schedule, replayed on the fixed model when the path kept its shape (a subscriber-side fix). */
export function runVariant(scenario: Scenario, path: PathEvent[], fixed: boolean, guide?: { schedule: Action[]; opCount: number }): VariantResult & { schedule: Action[]; opCount: number } {
  const m = buildModel(scenario, path);
  const ex = explore(m);
  const opCount = (m.programs.T0 ?? []).length;
  const schedule = ex.schedule ?? demoSchedule(m, guide && guide.opCount === opCount ? guide.schedule : []);
  const { steps, violations } = buildSteps(m, schedule);
  const hazard = ex.schedule !== null;
  const limit = ex.exhaustive
    ? 'the whole space within the bound'
    : ex.boundReached
      ? `up to the depth bound ${scenario.bound}`
      : `stopped at ${scenario.maxStates} states`;
  let summary: string;
  if (hazard) {
    const list = violations.map((v) => `${v.invariant} at step ${v.step}`).join(', ');
    const last = violations[violations.length - 1];
    summary = `HAZARD on the ${fixed ? 'fixed' : 'flagged'} path: ${list}. Shortest such schedule: ${steps.length} steps, found after exploring ${ex.statesExplored} states (first invariant broken after ${ex.firstViolation?.states ?? 0} states).${last ? ` Outcome: ${last.explanation}` : ''}`;
  } else {
    summary = `No invariant breaks on the ${fixed ? 'fixed' : 'flagged'} path: ${ex.statesExplored} states explored (${limit}). One interleaving is shown.`;
  }
  return {
    hazard,
    violations,
    steps,
    statesExplored: ex.statesExplored,
    statesToFirstViolation: ex.firstViolation ? ex.firstViolation.states : null,
    exhaustive: ex.exhaustive,
    boundReached: ex.boundReached,
    path,
    summary,
    schedule,
    opCount,
  };
}

export function simulateFinding(
  finding: { rule: string; path: PathEvent[]; file?: string; line?: number; function?: string; variant?: string },
  opts: SimulateOptions = {},
): SimulationResult {
  const rule = String(finding.rule);
  // Subscriber-side witnesses are replayed as they are: their programs place the commit and the releases themselves.
  const path = isSubscriberRule(rule) ? normalizeSubscriberPath(rule, cleanPath(finding.path)) : completePath(expandMacros(cleanPath(finding.path)));
  const f: FindingInput = { ...finding, rule, path };
  if (typeof finding.variant !== 'string') delete f.variant;
  if (!isSubscriberRule(rule)) return simulateInput(f, opts);
  try {
    return simulateInput(f, opts);
  } catch {
    // Odd witness of a subscriber-side rule: the rule's generic scenario (its programs synthesize every event).
    const generic = simulateInput({ ...f, path: normalizeSubscriberPath(rule, []) }, opts);
    generic.summary = `The witness path could not be replayed as given; the generic scenario of ${rule} is shown. ${generic.summary}`;
    return generic;
  }
}

function simulateInput(f: FindingInput, opts: SimulateOptions): SimulationResult {
  const scenario = buildScenario(f, opts);
  const { schedule, opCount, ...flagged } = runVariant(scenario, f.path, false);
  const fix = fixPath(f.rule, f.path, scenario);
  const { schedule: _s, opCount: _o, ...fixed } = runVariant(fix.scenario, fix.path, true, { schedule, opCount });
  const out: SimulationResult = { ...flagged, scenario, fixed: { ...fixed, fixDescription: fix.description } };
  // Before v3.7 the unbracketed change was correct by design: say so, and replay it with the semantics under which it
  // is the bug (v3.7 on, or a tree that backported the notifier core).
  if (f.rule === 'unbracketed-change-pte' && changePteFallsBack(parseVersion(opts.kernelVersion))) {
    const later = buildScenario(f, { ...opts, kernelVersion: '3.7' });
    const { schedule: _l, opCount: _lo, ...lv } = runVariant(later, f.path, false);
    out.summary = `Correct on v${scenario.kernelVersion} by design (change_pte falls back to invalidate_page). ${out.summary}`;
    out.laterSemantics = { ...lv, kernelVersion: later.kernelVersion, note: 'from v3.7, or after a backport of 6bdb913f0a70\'s notifier core: subscribers without change_pte learn of the change only through the range bracket' };
  }
  return out;
}
