// nonblocking-invalidate-sleeps and atomic-callback-sleeps: the sleep walk (walk.ts) from each callback, the findings
// at the sleeping calls, and where the blockable quick-fix goes.
import { blockableTest, type CallbackContract } from '../kernel/subscriber';
import { paramDecls } from './ops';
import { type FnRef, type Fact, type SleepSite, type SleepWalker } from './walk';
import { namedChildren, unwrap, type Node } from '../parse/syntax';
import type { BlockableFix, RelatedInfo } from '../engine/types';
import type { Callback, SubFinding, SubscriberRule, SubscriberView } from './types';

const pos = (file: string, n: Node, message: string): RelatedInfo => ({ file, line: n.startPosition.row + 1, column: n.startPosition.column + 1, message });

function headerOf(ref: FnRef): string {
  return ref.text.slice(ref.fn.start, ref.fn.bodyStart);
}

export function sleepFindings(view: SubscriberView, walker: SleepWalker, cb: Callback, c: CallbackContract): SubFinding[] {
  const params = paramDecls(headerOf(cb.ref));
  const facts = new Map<string, Fact>();
  let test: { cond: string; bail: string } | undefined;
  if (c.contract === 'nonblocking') {
    test = blockableTest(view.model, cb.kind, params);
    // Before the contract's signature (no blockable flag, no range), the callback could always sleep.
    if (!test) return [];
    const bool = params.find((p) => /^_?Bool$|^bool$/.test(p.type.trim()));
    if (bool && cb.kind === 'notifier') facts.set(bool.name, 'carrier');
  }
  const sites = walker.sleeps(cb.ref, facts, c.contract === 'atomic' ? 2 : 0);
  const rule: SubscriberRule = c.contract === 'atomic' ? 'atomic-callback-sleeps' : 'nonblocking-invalidate-sleeps';
  const ver = view.model.unknown ? '' : ` (${view.model.shortLabel})`;
  return sites.map((s) => {
    const where = s.fn === cb.ref.fn.name ? '' : ` (in ${s.fn}(), reached from ${cb.ref.fn.name}())`;
    const call = s.label.includes('(') ? s.label : `${s.label}()`;
    const message = c.contract === 'atomic'
      ? `${call} may sleep in ${cb.field} callback ${cb.ref.fn.name}() under the page-table lock${where}${ver}`
      : `${call} may sleep in ${cb.field} callback ${cb.ref.fn.name}() when the range is not blockable${where}${ver}`;
    const detail = c.contract === 'atomic'
      ? `The contract: ${c.why}. The path from the callback to the sleep is the witness.`
      : `The contract: ${c.why}. On this path the callback does not test ${test!.cond} before it sleeps: when the OOM reaper invalidates an UNMAP range non-blockably, the kernel's non_block_start() makes this "BUG: sleeping function called from invalid context", and a driver lock held by a thread that waits for memory stalls the reaper.`;
    const path = [{ ...s.path[0], detail: `${cb.field} callback ${cb.ref.fn.name} of ${cb.ops}${c.contract === 'atomic' ? ' (runs under the page-table lock)' : ' (the range may be non-blockable)'}` }, ...s.path.slice(1)];
    const f: SubFinding = {
      rule, variant: 'sleeps', file: s.file, fn: s.fn, node: s.node, message, detail, path,
      related: [
        { file: cb.file, line: cb.line, column: cb.column, message: `${cb.ref.fn.name}() is the ${cb.field} callback of ${cb.ops}` },
        ...(s.fn === cb.ref.fn.name ? [] : [pos(cb.ref.file, s.step, `${cb.ref.fn.name}() reaches the sleep through this call`)]),
        ...(s.also ?? []).map((a) => ({ file: a.file, line: a.line, column: a.column, message: `${a.label.includes('(') ? a.label : a.label + '()'} may sleep too on this call's paths` })),
      ],
    };
    if (c.contract === 'nonblocking') {
      const fix = blockableFixFor(cb, s, test!, sites.length === 1);
      if ('offset' in fix) f.blockableFix = fix;
      else f.noFix = fix.why;
    } else f.noFix = 'An atomic callback must not sleep at all: the sleeping work has to move out of the callback (to invalidate_range_start/end or a worker), which is a design change, not a one-line fix.';
    return f;
  });
}


/**
 * Where `if (!blockable) return -EAGAIN;` goes: before the top-level statement of the callback that leads to the sleep,
 * hoisted above driver locks still held there; refused when a statement before it has effects a bail-out would leave
 * half done (a counter or field updated, a lock taken that the bail-out would not release).
 */
function blockableFixFor(cb: Callback, s: SleepSite, test: { cond: string; bail: string }, onlySleep: boolean): BlockableFix | { why: string } {
  const body = cb.ref.fn.body;
  const stmts = namedChildren(body).filter((n) => n.type !== 'comment' && n.type !== '{' && n.type !== '}');
  const top = (n: Node): Node | undefined => stmts.find((t) => t.startIndex <= n.startIndex && n.endIndex <= t.endIndex);
  let target = top(s.held.length ? s.held[0] : s.step);
  if (!target) return { why: 'the sleep is not reached from a statement of the callback body' };
  if (s.conds.some((c) => target!.startIndex > c.startIndex && top(c) === target)) target = top(s.conds[0]);
  if (!target) return { why: 'no statement to insert the test before' };
  const idx = stmts.indexOf(target);
  // Kernel C keeps declarations first (-Wdeclaration-after-statement): the test cannot go before a declaration.
  if (stmts.slice(idx).some((t) => t.type === 'declaration')) {
    return { why: 'the sleep is reached from a declaration\'s initializer (or declarations follow it): the test would have to go before declarations (-Wdeclaration-after-statement); split the declaration and test the flag before the call by hand' };
  }
  for (const before of stmts.slice(0, idx)) {
    if (before.type === 'declaration') {
      if (/\b(?:lock|down|get|alloc|kmalloc|kzalloc)\w*\s*\(/.test(before.text)) return { why: `a bail-out after "${before.text.trim().slice(0, 60)}" would skip its undoing` };
      continue;
    }
    if (/\+\+|--|->\w+\s*[+\-|&]?=(?!=)|\b(?:spin_lock|mutex_lock|down_|read_lock|write_lock|srcu_read_lock|rcu_read_lock|kref_get|get_)\w*\s*\(/.test(before.text)) {
      return { why: `a bail-out placed before the sleep would skip the undoing of "${before.text.trim().split('\n')[0].slice(0, 70)}" (upstream fixes in such callbacks pass the blockable flag down instead)` };
    }
  }
  const text = cb.ref.text;
  const lineStart = text.lastIndexOf('\n', target.startIndex - 1) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
  const fix: BlockableFix = { file: cb.ref.file, callback: cb.ref.fn.name, offset: lineStart, indent, cond: test.cond, bail: test.bail };
  // The sleep is the callback's own lock call, and its only one: blockable ? lock : trylock-or-bail. (With more sleeps
  // after it, one bail-out before the lock fixes them all.)
  if (onlySleep && s.fn === cb.ref.fn.name && s.node === s.step && target.type === 'expression_statement' && unwrap(namedChildren(target)[0] ?? target).startIndex === s.node.startIndex) {
    const call = s.node;
    const name = call.childForFieldName('function')?.text ?? '';
    const trylock = ({ mutex_lock: 'mutex_trylock', down_read: 'down_read_trylock', down_write: 'down_write_trylock' } as Record<string, string>)[name];
    const arg = namedChildren(call.childForFieldName('arguments')!)[0]?.text;
    if (trylock && arg) fix.lockCall = { name, trylock, arg, stmtStart: lineStart, stmtEnd: target.endIndex };
  }
  return fix;
}
