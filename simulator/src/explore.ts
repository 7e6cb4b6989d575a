// Breadth-first exploration of all interleavings up to a depth bound, with duplicate states pruned; finds the shortest damaging schedule.
import { applyAction, enabledActions, pathDone, threadsDone, type Action, type Model } from './actors';
import { checkInvariants } from './invariants';
import { stateKey, type SimState } from './model';

export interface ExploreResult {
  /** The schedule to show: the best-ranked invariant-breaking schedule, shortest within its rank; null when none. */
  schedule: Action[] | null;
  rank: number | null;
  /** The shortest schedule whose last step breaks an invariant, and the states discovered when it was found. */
  firstViolation: { schedule: Action[]; states: number } | null;
  statesExplored: number;
  exhaustive: boolean;
  boundReached: boolean;
}

/**
 * Ranks an invariant-breaking transition. Damage (I5, I6) outranks a rule merely broken, and a schedule
 * that replays the whole flagged path (or deadlocks it) outranks one that stops half-way: it is the story
 * a reader can follow from the path to its consequence. Lower is better; 0 stops the search.
 */
function rankOf(damage: number | null, broken: boolean, complete: boolean): number | null {
  if (damage !== null) return damage + (complete ? 0 : 10);
  if (broken) return 20 + (complete ? 0 : 5);
  return null;
}

/** stopAtFirst: stop as soon as any invariant breaks (the benchmark's "time to first violation"). */
export function explore(m: Model, opts: { stopAtFirst?: boolean } = {}): ExploreResult {
  const bound = m.scenario.bound;
  const states: SimState[] = [m.initial];
  const parent: number[] = [-1];
  const via: (Action | null)[] = [null];
  const depth: number[] = [0];
  const seen = new Map<string, number>([[stateKey(m.initial), 0]]);
  let best: { node: number; action: Action; rank: number } | null = null;
  let first: { node: number; action: Action; states: number } | null = null;
  let boundReached = false;
  let stopped = false;
  for (let n = 0; n < states.length && !stopped; n++) {
    const s = states[n] as SimState;
    const acts = enabledActions(m, s);
    if (acts.length > 0 && (depth[n] as number) >= bound) {
      boundReached = true;
      continue;
    }
    for (const a of acts) {
      const r = applyAction(m, s, a);
      const broken = checkInvariants(m, s, r.state, r.info);
      if (broken.length > 0) {
        if (!first) first = { node: n, action: a, states: states.length };
        if (opts.stopAtFirst) stopped = true;
        let damage: number | null = null;
        for (const b of broken) if (b.damage !== null) damage = damage === null ? b.damage : Math.min(damage, b.damage);
        const complete = threadsDone(m, r.state) || broken.some((b) => b.invariant === 'I6');
        const rank = rankOf(damage, true, complete);
        if (rank !== null && (!best || rank < best.rank)) best = { node: n, action: a, rank };
        if (rank === 0 || stopped) {
          stopped = true;
          break;
        }
      }
      const k = stateKey(r.state);
      if (seen.has(k)) continue;
      if (states.length >= m.scenario.maxStates) {
        stopped = true;
        break;
      }
      seen.set(k, states.length);
      states.push(r.state);
      parent.push(n);
      via.push(a);
      depth.push((depth[n] as number) + 1);
    }
  }
  const scheduleTo = (node: number, last: Action): Action[] => {
    const out: Action[] = [last];
    for (let c = node; c > 0; c = parent[c] as number) out.push(via[c] as Action);
    return out.reverse();
  };
  return {
    schedule: best ? scheduleTo(best.node, best.action) : null,
    rank: best ? best.rank : null,
    firstViolation: first ? { schedule: scheduleTo(first.node, first.action), states: first.states } : null,
    statesExplored: states.length,
    exhaustive: !stopped && !boundReached,
    boundReached,
  };
}

/**
 * A readable schedule when nothing breaks: the replayed path, the other invalidation and the fault
 * handlers take turns (so retries show), then devices and the allocator act.
 */
export function demoSchedule(m: Model, guide: Action[] = []): Action[] {
  const primary = m.scenario.actors.filter((a) => a.kind === 'path' || a.kind === 'invalidation' || a.kind === 'fault' || a.kind === 'thread').map((a) => a.id);
  const out: Action[] = [];
  let s = m.initial;
  // First follow the guide (the flagged schedule) where it applies: the same interleaving, now harmless.
  for (const g of guide) {
    if (out.length >= m.scenario.bound) break;
    if (!enabledActions(m, s).some((a) => a.actor === g.actor && a.choice === g.choice)) continue;
    out.push(g);
    s = applyAction(m, s, g).state;
  }
  let turn = 0;
  const seenIdle = new Set<string>();
  while (out.length < m.scenario.bound) {
    const acts = enabledActions(m, s);
    if (acts.length === 0) break;
    let pick: Action | undefined;
    for (let k = 0; k < primary.length && !pick; k++) {
      const id = primary[(turn + k) % primary.length];
      pick = acts.find((a) => a.actor === id);
      if (pick) turn = (turn + k + 1) % primary.length;
    }
    // Once the path is done, a fault handler that only loops is not worth showing forever.
    if (pick && pathDone(m, s)) {
      const key = stateKey(s);
      if (seenIdle.has(key)) pick = undefined;
      seenIdle.add(key);
    }
    if (!pick) {
      const rest = acts.filter((a) => !primary.includes(a.actor));
      pick = rest.find((a) => a.choice === 1) ?? rest[0];
    }
    if (!pick) break;
    out.push(pick);
    s = applyAction(m, s, pick).state;
  }
  return out;
}
