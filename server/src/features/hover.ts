// Hover on a flagged call: what is wrong, on which path, why it matters and for which kernel versions.
import type { Hover, Position } from 'vscode-languageserver';
import type { Finding, PathEvent } from '../engine/types';
import { ruleById } from '../rules';
import { rangeOf } from './diagnostics';

const VERSIONS: Record<string, string> = {
  'unbracketed-change-pte': 'a bug for kernels v3.7 to v6.9 (v3.7 removed the invalidate_page fallback; v6.10 removed change_pte)',
  'notifier-under-ptl': 'a bug wherever the called notifier may sleep: invalidate_range_start/end (blockable) always, invalidate_page v3.7 to v4.12',
  'range-imbalance': 'any version with invalidate ranges',
  'nonblocking-invalidate-sleeps': 'a bug from v4.19 (the blockable flag, 93065ac753e4), for invalidate_range_start and (v5.5 on) interval invalidate callbacks',
  'atomic-callback-sleeps': 'a bug in change_pte (until v6.9), invalidate_range (v4.0 to v6.5) and arch_invalidate_secondary_tlbs (v6.6 on) callbacks',
  'interval-sequence': 'interval notifiers, v5.5 on (99cb252f5e68)',
  'register-under-mmap-lock': 'every version: the registration calls take the mmap lock (mmap_sem before v5.8)',
};

export function contains(f: Finding, pos: Position): boolean {
  const r = rangeOf(f);
  if (pos.line < r.start.line || pos.line > r.end.line) return false;
  if (pos.line === r.start.line && pos.character < r.start.character) return false;
  if (pos.line === r.end.line && pos.character > r.end.character) return false;
  return true;
}

function describeEvent(e: PathEvent): string {
  const what = e.detail ?? e.callee ?? e.lock ?? '';
  return `line ${e.line}: ${e.event.replace(/_/g, ' ')}${what ? ` \`${what.replace(/`/g, "'")}\`` : ''}${e.via ? ` (in ${e.via}())` : ''}`;
}

/** What to say about the fix: `undefined` when a rewriting quick-fix is offered, else why none is and what to do by hand. */
export type FixNote = (f: Finding) => string | undefined;

export function noFixAdvice(f: Finding): string {
  if (f.noFix) return `No quick-fix is offered: ${f.noFix.charAt(0).toLowerCase()}${f.noFix.slice(1)}`;
  if (f.rule === 'nonblocking-invalidate-sleeps') {
    const b = f.blockableFix;
    return b && b.file !== f.file
      ? `No quick-fix is offered here: the test belongs in the callback ${b.callback}() (${b.file.split('/').pop()}): \`if (!${b.cond}) return ${b.bail};\` before the call that leads to this sleep, or pass the flag down and skip the sleep when it is false.`
      : 'No quick-fix is offered: no rewrite re-analyses clean. Test the blockable flag before the sleep and return -EAGAIN (interval: false), or take the lock with a trylock when the range is not blockable.';
  }
  if (f.rule === 'unbracketed-change-pte') {
    return 'No quick-fix is offered: no bracket written with the names in scope here re-analyses clean. Bracket by hand as 6bdb913f0a70 did: ' +
      'mmu_notifier_invalidate_range_start() before the page-table lock is taken, mmu_notifier_invalidate_range_end() after every unlock that follows ' +
      '(a flag like mmun_called where the start is conditional; an out_mn: label where early exits skip the unlock).';
  }
  if (f.rule === 'notifier-under-ptl') {
    return 'No quick-fix is offered: no rewrite re-analyses clean here (the call is in a loop over addresses, the lock is the caller\'s, or the ' +
      'function returns with it held). Do by hand what 2ec74c3 did: the range start before the lock is taken, the plain operation under it, ' +
      'the range end (or invalidate_page) after the unlock; where the caller holds the lock, drop and retake it around the notifier call.';
  }
  return 'No quick-fix is offered: end the range on the path that leaves it open, or remove the end that has no start.';
}

export function hoverText(f: Finding, versionLabel: string, fixNote?: FixNote): string {
  const meta = ruleById(f.rule)?.meta;
  const parts = [`**${f.rule}**${meta ? `: ${meta.title}` : ''}`, '', f.message, ''];
  if (f.detail) parts.push(f.detail, '');
  // A report placed at a caller: the change it is about, and the chain to it.
  const origin = f.related.find((r) => /set_pte_at_notify\(\) changes the PTE here/.test(r.message));
  if (origin) parts.push(`**The PTE change** is at ${origin.file.split('/').pop()}:${origin.line}; its callers that open a range bracket it there.`, '');
  if (f.path.length) {
    parts.push(`**Path** through \`${f.function}()\`:`, '');
    const shown = f.path.length > 14 ? [...f.path.slice(0, 6), undefined, ...f.path.slice(-7)] : f.path;
    shown.forEach((e, i) => parts.push(e ? `${i + 1}. ${describeEvent(e)}` : `${i + 1}. …`));
    parts.push('');
  }
  if (meta) parts.push(`**Why it matters.** ${meta.help}`, '');
  parts.push(`**Kernel versions.** ${VERSIONS[f.rule] ?? ''}. Analysed as kernel ${versionLabel}.${meta ? ` Introduced by ${meta.introducedBy}.` : ''}`);
  const note = fixNote?.(f);
  if (note) parts.push('', `**Fix.** ${note}`);
  if (meta) parts.push('', `**Limits.** ${meta.limits}`);
  return parts.join('\n');
}

export function hoverFor(findings: Finding[], pos: Position, versionLabel: string, fixNote?: FixNote): Hover | null {
  const hits = findings.filter((f) => contains(f, pos));
  if (!hits.length) return null;
  return {
    contents: { kind: 'markdown', value: hits.map((f) => hoverText(f, versionLabel, fixNote)).join('\n\n---\n\n') },
    range: rangeOf(hits[0]),
  };
}
