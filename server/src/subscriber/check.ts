// The subscriber rules: what drivers implementing MMU notifiers must keep (kernel/subscriber.ts has the contracts).
// This file finds the callbacks and runs the rules, one step per callback; each rule lives in its own file:
//  - sleeps.ts: nonblocking-invalidate-sleeps / atomic-callback-sleeps (the sleep walk of walk.ts from each callback);
//  - interval.ts: interval-sequence;
//  - register.ts: register-under-mmap-lock.
import { contractOf } from '../kernel/subscriber';
import { findCallbacks } from './ops';
import { SleepWalker } from './walk';
import { sleepFindings } from './sleeps';
import { intervalFindings } from './interval';
import { registerFindings } from './register';
import type { Callback, SubFinding, SubscriberView } from './types';

export type { SubFinding, SubscriberRule, SubscriberView } from './types';

/** Runs the four rules over the view's files. `incomplete` collects what could not be analysed. */
export function checkSubscribers(view: SubscriberView, incomplete: (file: string, fn: string, line: number, reason: string) => void, resetBudget: () => void = () => {}): SubFinding[] {
  const steps = checkSubscriberSteps(view, incomplete, resetBudget);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** The rules in steps: one per callback walk, then one for the interval and registration checks (the editor yields between them). */
export function* checkSubscriberSteps(view: SubscriberView, incomplete: (file: string, fn: string, line: number, reason: string) => void, resetBudget: () => void = () => {}): Generator<void, SubFinding[]> {
  const out: SubFinding[] = [];
  const callbacks: Callback[] = [];
  for (const { file, text } of view.files()) {
    for (const cb of findCallbacks(file, text)) {
      const ref = view.defs(cb.fn, file)[0];
      if (ref) callbacks.push({ ...cb, ref });
      else if (contractOf(view.model, cb.kind, cb.field)) incomplete(file, cb.fn, cb.line, `the ${cb.field} callback ${cb.fn}() of ${cb.ops} is not defined in the analysed files: not checked`);
    }
  }
  const walker = new SleepWalker({ defs: (n, f) => view.defs(n, f), graph: (r) => view.graph(r), tick: () => view.tick() });
  const done = new Set<string>();
  for (const cb of callbacks) {
    const c = contractOf(view.model, cb.kind, cb.field);
    if (!c) continue;
    const key = `${c.contract}\0${cb.ref.file}\0${cb.ref.fn.start}`;
    if (done.has(key)) continue; // shared by several ops: checked once per contract
    done.add(key);
    resetBudget();
    try {
      out.push(...sleepFindings(view, walker, cb, c));
    } catch (e) {
      incomplete(cb.ref.file, cb.ref.fn.name, cb.ref.fn.line, `subscriber analysis stopped: ${(e as Error).message}`);
    }
    yield;
  }
  resetBudget();
  try {
    out.push(...intervalFindings(view, callbacks));
    out.push(...registerFindings(view));
  } catch (e) {
    incomplete('', '', 0, `subscriber analysis stopped: ${(e as Error).message}`);
  }
  // One report per rule and node (a sleep reached from two callbacks is reported once, from the first).
  const seen = new Set<string>();
  return out.filter((f) => {
    const k = `${f.rule}\0${f.file}\0${f.node.startIndex}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
