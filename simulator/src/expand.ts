// *_notify macros replayed as what they expand to in the audited version. The engine's kernel model is the one source
// of the expansions: it writes them on the path event (`expansion`, or in the detail's parentheses for older output).
import type { PathEvent } from './types';

/** The notifier calls a macro event expands to, in order; empty when it is not a macro or names none. */
export function macroCalls(e: PathEvent): string[] {
  if (e.event !== 'clear_flush_notify' && e.event !== 'notifier_call') return [];
  const name = e.callee ?? /^(\w+)\(/.exec(e.detail ?? '')?.[1] ?? '';
  if (!/_notify$/.test(name) || /^mmu_notifier_/.test(name)) return [];
  const text = e.expansion ?? /\(([^()]*mmu_notifier_[^()]*)\)\s*$/.exec(e.detail ?? '')?.[1] ?? '';
  return [...text.matchAll(/\b(?:__)?(mmu_notifier_\w+)/g)].map((m) => m[1]);
}

/**
 * Expands macros whose expansion sleeps into their parts: before v3.13 pmdp_*_notify() is range_start, the plain clear,
 * range_end; before v3.19 ptep_clear_flush_notify() is the plain clear, then invalidate_page. Macros that expand to
 * invalidate_range (called under the lock by design) stay one event.
 */
export function expandMacros(path: PathEvent[]): PathEvent[] {
  const out: PathEvent[] = [];
  for (const e of path) {
    const calls = macroCalls(e);
    const name = e.callee ?? 'macro';
    const at = { file: e.file, line: e.line, column: e.column };
    if (calls.includes('mmu_notifier_invalidate_range_start') && calls.includes('mmu_notifier_invalidate_range_end')) {
      out.push({ ...at, event: 'range_start', callee: 'mmu_notifier_invalidate_range_start', maySleep: true, detail: `${name}(): mmu_notifier_invalidate_range_start()` });
      out.push({ ...at, event: 'clear_flush', detail: `${name}(): the entry is cleared and flushed` });
      out.push({ ...at, event: 'range_end', callee: 'mmu_notifier_invalidate_range_end', maySleep: true, detail: `${name}(): mmu_notifier_invalidate_range_end()` });
    } else if (calls.includes('mmu_notifier_invalidate_page')) {
      out.push({ ...at, event: 'clear_flush', detail: `${name}(): the entry is cleared and flushed` });
      out.push({ ...at, event: 'notifier_call', callee: 'mmu_notifier_invalidate_page', maySleep: e.maySleep !== false, detail: `${name}(): mmu_notifier_invalidate_page()` });
    } else out.push(e);
  }
  return out;
}
