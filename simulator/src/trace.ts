// Turns a schedule into numbered trace steps (change, state snapshot, invariant status) and renders a result as plain text.
import { applyAction, type Action, type Model } from './actors';
import { checkInvariants } from './invariants';
import { describePte, snapshot } from './model';
import type { SimulationResult, Snapshot, Step, VariantResult, Violation } from './types';

export function buildSteps(m: Model, schedule: Action[]): { steps: Step[]; violations: Violation[] } {
  const steps: Step[] = [];
  const violations: Violation[] = [];
  let s = m.initial;
  schedule.forEach((a, idx) => {
    const r = applyAction(m, s, a);
    const broken = checkInvariants(m, s, r.state, r.info);
    const n = idx + 1;
    const vs = broken.map((b) => ({ invariant: b.invariant, step: n, explanation: b.explanation }));
    violations.push(...vs);
    const step: Step = {
      n,
      actor: a.actor,
      event: r.info.event,
      ...(r.info.source ? { source: { ...r.info.source } } : {}),
      change: r.info.change,
      state: snapshot(r.state),
      invariants: vs.length > 0 ? 'broken' : 'hold',
      ...(vs[0] ? { violation: vs[0] } : {}),
    };
    steps.push(step);
    s = r.state;
  });
  return { steps, violations };
}

export function initialSnapshot(m: Model): Snapshot {
  return snapshot(m.initial);
}

export function stateLine(st: Snapshot): string {
  const shadow = st.shadow.map((x) => `${x.subscriber}->${describePte(x.pte)} [count ${x.openRanges}, seq ${x.seq}]`).join(', ');
  const pages = st.pages.map((p) => `${p.id}: ${p.state} ref ${p.refcount} map ${p.mapcount}`).join(', ');
  const locks = st.locks.map((l) => `${l.lock}: ${l.holder ?? 'free'}`).join(', ');
  const blocked = st.threads.filter((t) => t.blockedOn).map((t) => `${t.id} waits for ${t.blockedOn}`);
  return `PTE ${describePte(st.pte)} | shadow ${shadow} | pages ${pages} | locks ${locks}${blocked.length ? ` | ${blocked.join(', ')}` : ''}`;
}

function where(s: Step): string {
  return s.source ? `  (${s.source.file}:${s.source.line}:${s.source.column})` : '';
}

function renderVariant(v: VariantResult, lines: string[]): void {
  lines.push(v.summary);
  for (const s of v.steps) {
    lines.push(`  ${String(s.n).padStart(3)}. [${s.actor}] ${s.event}${where(s)}`);
    lines.push(`       ${s.change}`);
    lines.push(`       state: ${stateLine(s.state)}`);
    const mine = v.violations.filter((x) => x.step === s.n);
    for (const x of mine) lines.push(`       >>> ${x.invariant} BROKEN: ${x.explanation}`);
  }
}

export function renderTraceText(r: SimulationResult): string {
  const sc = r.scenario;
  const lines: string[] = [];
  lines.push(`Simulation of ${sc.rule} (kernel ${sc.kernelVersion}, ${sc.patternLabel ?? (sc.pattern === 'ksm' ? 'KSM merge' : 'copy-on-write')} pattern)`);
  for (const s of sc.subscribers) lines.push(`  subscriber ${s.id}: ${s.label}${s.kvmMode ? `, change_pte mode ${s.kvmMode}${s.guardCountOne ? ' with the count-must-be-1 guard' : ''}` : ''}`);
  for (const a of sc.actors) lines.push(`  actor ${a.label}`);
  for (const n of sc.notes) lines.push(`  note: ${n}`);
  lines.push('');
  lines.push('Flagged path:');
  renderVariant(r, lines);
  if (r.laterSemantics) {
    lines.push('');
    lines.push(`The same path with v${r.laterSemantics.kernelVersion} semantics (${r.laterSemantics.note}):`);
    renderVariant(r.laterSemantics, lines);
  }
  lines.push('');
  lines.push(`Fixed path (${r.fixed.fixDescription}):`);
  renderVariant(r.fixed, lines);
  return `${lines.join('\n')}\n`;
}
