// Discovery of subscriber callbacks: the functions that struct mmu_notifier_ops / mmu_interval_notifier_ops point at,
// from designated initializers (`static const struct mmu_notifier_ops x = { .invalidate_range_start = f, }`) and from
// field-by-field assignments (`ops.invalidate_range_start = f;` where ops is declared with one of those types).
import type { OpsKind } from '../kernel/subscriber';
import { lineStartsOf, pointAt } from '../parse/ranges';

export interface CallbackDecl {
  kind: OpsKind;
  /** The ops variable ("kvm_mmu_notifier_ops"). */
  ops: string;
  field: string;
  /** The function the field points at. */
  fn: string;
  file: string;
  line: number;
  column: number;
}

/** Fields that only mmu_notifier_ops has (an assignment to them needs no declared type to be recognised). */
const NOTIFIER_ONLY = new Set(['invalidate_range_start', 'invalidate_range_end', 'change_pte', 'invalidate_range', 'arch_invalidate_secondary_tlbs', 'invalidate_page', 'clear_flush_young', 'clear_young', 'test_young', 'alloc_notifier', 'free_notifier']);

/** The text with comments blanked (offsets kept), so that patterns do not match commented-out code. */
export function blankComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
}


const OPS_TYPE = /\bstruct\s+(mmu_notifier_ops|mmu_interval_notifier_ops|hmm_mirror_ops)\b/g;

/** Every callback a file's ops initializers and assignments name, in source order. */
export function findCallbacks(file: string, text: string): CallbackDecl[] {
  if (!text.includes('notifier_ops') && !text.includes('hmm_mirror_ops')) return [];
  const src = blankComments(text);
  const lines = lineStartsOf(text);
  const lineCol = (offset: number): { line: number; column: number } => {
    const p = pointAt(lines, offset);
    return { line: p.row + 1, column: p.column + 1 };
  };
  const out: CallbackDecl[] = [];
  const declared = new Map<string, OpsKind>();
  for (const m of src.matchAll(OPS_TYPE)) {
    const kind: OpsKind = m[1] === 'mmu_interval_notifier_ops' ? 'interval' : m[1] === 'hmm_mirror_ops' ? 'hmm_mirror' : 'notifier';
    // `struct mmu_notifier_ops [const] [*]name [= {...}]`
    const rest = /^\s*(?:const\s+)?(\*\s*)?(?:const\s+)?([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*([=;,)])/.exec(src.slice(m.index! + m[0].length, m.index! + m[0].length + 200));
    if (!rest) continue;
    const name = rest[2];
    if (rest[4] === ')' || name === 'const') continue; // a parameter or a cast
    declared.set(name, kind);
    if (rest[4] !== '=') continue;
    const open = src.indexOf('{', m.index! + m[0].length + rest[0].length - 1);
    if (open < 0 || src.slice(m.index! + m[0].length + rest[0].length, open).trim() !== '') continue;
    let depth = 0;
    let close = open;
    for (; close < src.length; close++) {
      if (src[close] === '{') depth++;
      else if (src[close] === '}' && --depth === 0) break;
    }
    const body = src.slice(open, close + 1); // with the closing brace: `{ .f = fn }` on one line
    for (const f of body.matchAll(/\.\s*([A-Za-z_]\w*)\s*=\s*&?\s*([A-Za-z_]\w*)\s*[,}\n]/g)) {
      if (f[2] === 'NULL') continue;
      const at = open + f.index!;
      out.push({ kind, ops: name, field: f[1], fn: f[2], file, ...lineCol(at) });
    }
  }
  for (const m of src.matchAll(/\b([A-Za-z_]\w*)\s*(?:\.|->)\s*([A-Za-z_]\w*)\s*=\s*&?\s*([A-Za-z_]\w*)\s*;/g)) {
    const kind = declared.get(m[1]) ?? (NOTIFIER_ONLY.has(m[2]) ? 'notifier' : undefined);
    if (!kind || m[3] === 'NULL') continue;
    out.push({ kind, ops: m[1], field: m[2], fn: m[3], file, ...lineCol(m.index!) });
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Parameters of a function definition, from its header text: names and the type text around each. */
export function paramDecls(header: string): Array<{ name: string; type: string }> {
  const open = header.lastIndexOf('(', header.lastIndexOf(')'));
  // The parameter list is the last balanced (...) of the header.
  let end = header.lastIndexOf(')');
  if (end < 0) return [];
  let depth = 0;
  let start = end;
  for (; start >= 0; start--) {
    if (header[start] === ')') depth++;
    else if (header[start] === '(' && --depth === 0) break;
  }
  if (start < 0) start = open;
  const inner = header.slice(start + 1, end);
  const parts: string[] = [];
  depth = 0;
  let cur = '';
  for (const ch of inner) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  end = 0;
  return parts
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p && p !== 'void')
    .map((p) => {
      const n = /([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?$/.exec(p);
      const name = n ? n[1] : '';
      return { name, type: n ? p.slice(0, n.index).trim() : p };
    });
}
