// Invariants I1..I6 of hazards.md (and I7, a range left open), checked after every step; each broken one comes with a plain-language explanation.
import type { Model, StepInfo } from './actors';
import { describePte, page, waitCycle, type SimState } from './model';
import type { InvariantId } from './types';

export interface Broken {
  invariant: InvariantId;
  explanation: string;
  /** Damage rank: 0 = memory corruption of another process or deadlock, 1 = leak, 2 = use-after-free, 3 = lost write; null = a rule broken without damage yet. */
  damage: number | null;
}

function holdsSpinlock(m: Model, s: SimState, id: string): string | null {
  const t = s.threads.find((x) => x.id === id);
  return t?.held.find((l) => !m.sleeping[l]) ?? null;
}

export function checkInvariants(m: Model, prev: SimState, next: SimState, i: StepInfo): Broken[] {
  const out: Broken[] = [];
  // I7: the replayed path ends with a range it opened still open (range-imbalance): every subscriber's count of open
  // ranges stays raised, so none maps the range again (KVM's fault path retries forever: the guest spins).
  const t0 = next.threads.find((x) => x.id === i.actor);
  const program = m.programs[i.actor];
  // Only a range-imbalance witness runs to the function's return: other witnesses stop at the flagged call.
  if (m.scenario.rule === 'range-imbalance' && t0 && program && i.actor === 'T0' && t0.pc >= program.length && prev.threads.find((x) => x.id === 'T0')!.pc < program.length) {
    const open = next.ranges.filter((r) => r === 'T0').length;
    if (open > 0) {
      out.push({
        invariant: 'I7',
        explanation: `T0 returns with ${open} invalidate range(s) it opened still open: the subscribers' count of open ranges never drops back, so a secondary-MMU fault in the range retries forever (a KVM guest spins on the fault).`,
        damage: 1,
      });
    }
  }
  if (i.slept) {
    const t = next.threads.find((x) => x.id === i.slept);
    if (t && t.preempt === 0 && t.nonBlock > 0) {
      out.push({
        invariant: 'I1',
        explanation: `${t.id} may sleep (${i.event}) inside a non-blocking invalidation (non-block depth ${t.nonBlock}: non_block_start() around the OOM reaper's callbacks): might_sleep() reports "BUG: sleeping function called from invalid context", and the OOM reaper, which must make progress to free memory, can stall.`,
        damage: null,
      });
    } else if (t && (t.preempt > 0 || t.nonBlock > 0)) {
      const lock = holdsSpinlock(m, next, t.id);
      out.push({
        invariant: 'I1',
        explanation: `${t.id} sleeps while atomic (preempt count ${t.preempt}${lock ? `, it holds the spinlock ${lock}` : ''}${t.nonBlock > 0 ? ', inside a non-blocking range' : ''}): "BUG: scheduling while atomic".`,
        damage: null,
      });
    }
  }
  if (i.blockable) {
    const lock = holdsSpinlock(m, next, i.blockable);
    if (lock) {
      out.push({
        invariant: 'I2',
        explanation: `${i.blockable} makes a blockable notifier call (${i.event}) while holding the spinlock ${lock}: subscribers may sleep in it; with CONFIG_DEBUG_ATOMIC_SLEEP might_sleep() reports "BUG: sleeping function called from invalid context".`,
        damage: null,
      });
    }
  }
  if (i.checkpoint && next.ranges.length === 0) {
    for (const u of next.subs) {
      if (!u.shadow) continue;
      const pte = next.pte;
      if (pte && pte.page === u.shadow.page && (pte.writable || !u.shadow.writable)) continue;
      out.push({
        invariant: 'I3',
        explanation: `after ${i.event}, no invalidation range is open, yet ${u.id}'s shadow PTE maps ${describePte(u.shadow)} while the primary PTE maps ${describePte(pte)}: the secondary MMU was never told about the change and keeps a stale translation.`,
        damage: null,
      });
    }
  }
  for (const ins of i.installs) {
    const u = next.subs.find((x) => x.id === ins.sub);
    const others = (u?.open ?? []).filter((o) => o !== ins.by);
    if (others.length > 0) {
      out.push({
        invariant: 'I4',
        explanation: `${ins.by} installs a shadow PTE -> ${ins.page} in ${ins.sub} while the invalidation range of ${[...new Set(others)].join(', ')} is open (count ${u?.open.length ?? 0}): that range already zapped and will not zap again, so this translation can outlive the page.`,
        damage: null,
      });
    }
  }
  if (i.access) {
    const p = page(next, i.access.page);
    const verb = i.access.write ? 'writes' : 'reads';
    const who = m.subs[i.access.sub]?.kind === 'kvm' ? 'guest' : 'device';
    if (p && p.state !== 'live') {
      const reused = p.state === 'reused';
      out.push({
        invariant: 'I5',
        explanation: reused
          ? `the ${i.access.sub} ${who} ${verb} through its stale shadow PTE into page ${p.id}, which was freed and now belongs to another process: ${i.access.write ? "it CORRUPTS the other process's memory" : "it LEAKS the other process's data"}.`
          : `the ${i.access.sub} ${who} ${verb} page ${p.id} after it was freed (use after free through a stale shadow PTE).`,
        damage: reused ? (i.access.write ? 0 : 1) : 2,
      });
    } else if (i.access.write && p && p.wasMapped && p.mapcount === 0) {
      out.push({
        invariant: 'I5',
        explanation: `the ${i.access.sub} ${who} writes page ${i.access.page}, which the process no longer maps (its PTE maps ${describePte(next.pte)}): the write is lost to the process.`,
        damage: 3,
      });
    }
  }
  const cycle = waitCycle(next);
  if (cycle && !waitCycle(prev)) {
    const desc = cycle.map((t) => {
      const th = next.threads.find((x) => x.id === t);
      return `${t} waits for ${th?.blockedOn ?? '?'} (held by ${next.locks[th?.blockedOn ?? ''] ?? '?'})`;
    });
    out.push({ invariant: 'I6', explanation: `deadlock: ${desc.join('; ')}. Neither can ever proceed.`, damage: 0 });
  }
  return out;
}
