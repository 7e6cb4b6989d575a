// Rule unbracketed-change-pte: set_pte_at_notify() reachable with no open invalidate range, or with a range never closed.
import { rel, type RawFinding, type Rule } from './types';
import { callArgs, namedChildren, normExpr, unwrap, type Node } from '../parse/syntax';
import { enclosingStatement } from '../dataflow/analyze';

/**
 * set_pte_at_notify(mm, addr, ptep, pte) right after `pte = *ptep` (nothing assigned in between): it writes back the
 * value the PTE already holds (a vendor CMA re-check after a migration), so no secondary translation can go stale.
 */
function writesBackSameValue(call: Node): boolean {
  const args = callArgs(call);
  if (args.length !== 4) return false;
  const v = unwrap(args[3]);
  const ptep = normExpr(args[2].text);
  if (v.type !== 'identifier') return /^\*/.test(normExpr(v.text)) && normExpr(v.text).slice(1) === ptep;
  const stmt = enclosingStatement(call);
  const block = stmt.parent;
  if (!block) return false;
  const siblings = namedChildren(block);
  const i = siblings.indexOf(stmt);
  for (let k = i - 1; k >= 0 && k >= i - 4; k--) {
    const t = siblings[k].text.replace(/\s+/g, '');
    if (t === `${v.text}=*${ptep};` || t === `${v.text}=*(${ptep});`) return true;
    if (new RegExp(`\\b${v.text}\\b`).test(t)) return false;
  }
  return false;
}

export const unbracketedChangePte: Rule = {
  meta: {
    id: 'unbracketed-change-pte',
    title: 'set_pte_at_notify() outside an invalidate range',
    introducedBy: '6bdb913f0a70 "mm: wrap calls to set_pte_at_notify with invalidate_range_start and invalidate_range_end" (v3.7-rc1)',
    help:
      'Finds set_pte_at_notify() / mmu_notifier_change_pte() calls that some path reaches with no mmu_notifier_invalidate_range_start() ' +
      'open, or after which some path leaves the function without mmu_notifier_invalidate_range_end(). Since v3.7 the notifier core no longer ' +
      'falls back to invalidate_page for subscribers without change_pte: they learn about the PTE change only through the range bracket. ' +
      'Without it a secondary MMU (an RDMA ODP NIC, a GPU, an IOMMU) keeps a translation of the old page; once that page is freed and reused, ' +
      'device writes corrupt another process\'s memory and device reads leak it. Applies to kernels v3.7 to v6.9 (v6.10 removed change_pte). ' +
      'Before v3.7 the call was correct by design; the rule still reports it there as a warning, with a note, because that is the seed pattern.',
    limits:
      'Reported at the set_pte_at_notify() call, where the v3.7 fix put the bracket, unless an analysed caller opens a range around the call ' +
      '(the bracket-in-the-caller convention, looked for through chains of unbracketed wrappers): then at the callers that do not, one level up at a ' +
      'time; nothing when every analysed caller brackets. Callers outside the scanned files and calls through function pointers are not seen. ' +
      'Before v3.7 the finding is a warning: the code was correct then, and becomes a bug once v3.7 semantics apply (a backport). ' +
      'A set_pte_at_notify() that writes back the value just read from the same PTE (`pte = *ptep;` right before it) is not reported. ' +
      'Conditions are understood only for simple local flags and counters.',
  },
  check(ctx) {
    const out: RawFinding[] = [];
    const { fa, model } = ctx;
    const why = 'subscribers without change_pte keep a stale translation of the old page (a device or guest then reads or writes a freed page)';
    for (const o of fa.observations) {
      const note = model.beforeV37 ? ' Before v3.7 the notifier core fell back to invalidate_page for subscribers without change_pte, so this was correct then; it is a bug from v3.7 (or after a backport of that change).' : '';
      if (o.kind === 'changePte' && o.ranges.length === 0) {
        if (!o.via && o.node.type === 'call_expression' && writesBackSameValue(o.node)) continue;
        const lock = o.locks[o.locks.length - 1];
        const origin = o.origin;
        const where = origin ? `${origin.file !== o.at.file ? `${origin.file}:` : 'line '}${origin.line}` : '?';
        const message = o.via
          ? `${o.via}() changes a PTE (set_pte_at_notify() at ${where}) and is called here with no invalidate range open (kernel ${model.shortLabel})`
          : `${o.callee}() with no invalidate range open on this path (kernel ${model.shortLabel})`;
        const related = lock ? [rel(lock.site, `page-table lock ${lock.key} taken here`)] : [];
        if (o.via && origin) related.unshift(rel(origin, 'set_pte_at_notify() changes the PTE here; its callers that open a range bracket it there'));
        out.push({
          rule: 'unbracketed-change-pte',
          obs: o,
          message,
          detail: `No mmu_notifier_invalidate_range_start() is open: ${why}. Kernel ${model.label}.${note}` +
            (o.via ? ` Other callers of ${o.via}() open a range around the call (the bracket-in-the-caller convention), so the bracket goes here.` : ''),
          related,
          // Where the report goes (here, a caller, or nowhere) is decided over the whole call graph: see engine/placement.
          pteChange: { viaKey: o.viaKey },
          // Before v3.7 this was correct by design: a warning (a bug once v3.7 semantics apply).
          downgrade: model.beforeV37 || undefined,
        });
      } else if (o.kind === 'exitRangeOpen' && o.pending) {
        const start = o.ranges[0]?.site;
        out.push({
          rule: 'unbracketed-change-pte',
          obs: { ...o, at: o.pending },
          message: `set_pte_at_notify() inside an invalidate range that some path leaves open (kernel ${model.shortLabel})`,
          detail: `mmu_notifier_invalidate_range_end() is never called after the PTE change on that path, so subscribers never map the new page back. Kernel ${model.label}.`,
          related: start ? [rel(start, 'range opened here')] : [],
          downgrade: model.beforeV37 || undefined,
        });
      }
    }
    return out;
  },
};
