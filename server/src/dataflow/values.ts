// Value facts: what an expression evaluates to in a path state, which variables a condition can decide, and which
// conditions are pure (a re-test gives the same answer).
import { unwrap, normExpr, type Node } from '../parse/syntax';
import { clampFact, type State, type Val } from './state';

/** The value of an expression in state `s`: a small integer, a symbolic non-zero ('nz', range bounds), or unknown. */
export function evalVal(s: State, e: Node | null): Val | undefined {
  if (!e) return undefined;
  const x = unwrap(e);
  switch (x.type) {
    case 'number_literal': {
      const v = Number(x.text.replace(/[uUlL]+$/, ''));
      return Number.isFinite(v) ? clampFact(v) : undefined;
    }
    case 'true': return 1;
    case 'false': return 0;
    case 'null': return 0;
    case 'identifier':
      if (x.text === 'NULL' || x.text === 'false') return 0;
      if (x.text === 'true') return 1;
      // A held lock's pointer variable (ptl = pmd_lock(...)) is not NULL.
      return s.facts.get(x.text) ?? (s.locks.some((l) => l.key === x.text && !l.guard) ? 'nz' : undefined);
    case 'field_expression':
      return s.facts.get(normExpr(x.text));
    case 'unary_expression': {
      const op = x.child(0)?.text;
      const v = evalVal(s, x.childForFieldName('argument'));
      if (op === '!' && typeof v === 'string') return 0;
      if (typeof v !== 'number') return undefined;
      if (op === '!') return v ? 0 : 1;
      if (op === '-') return clampFact(-v);
      return undefined;
    }
    case 'cast_expression':
      return evalVal(s, x.childForFieldName('value'));
    case 'assignment_expression':
      return evalVal(s, x.childForFieldName('left'));
    case 'binary_expression': {
      const op = x.childForFieldName('operator')?.text ?? '';
      const a = evalVal(s, x.childForFieldName('left'));
      const b = evalVal(s, x.childForFieldName('right'));
      if (a === undefined || b === undefined) return undefined;
      return compare(op, a, b);
    }
    default:
      return undefined;
  }
}

export function compare(op: string, a: Val, b: Val): Val | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '==': return a === b ? 1 : 0;
      case '!=': return a !== b ? 1 : 0;
      case '<': return a < b ? 1 : 0;
      case '>': return a > b ? 1 : 0;
      case '<=': return a <= b ? 1 : 0;
      case '>=': return a >= b ? 1 : 0;
      case '&&': return a && b ? 1 : 0;
      case '||': return a || b ? 1 : 0;
      case '+': return clampFact(a + b);
      case '-': return clampFact(a - b);
      default: return undefined;
    }
  }
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return op === '==' || op === '<=' || op === '>=' ? 1 : op === '!=' || op === '<' || op === '>' ? 0 : undefined;
    const ma = /^(R\d+):(lo|hi)$/.exec(a);
    const mb = /^(R\d+):(lo|hi)$/.exec(b);
    if (ma && mb && ma[1] === mb[1]) {
      // lo < hi for the bounds of one range.
      const lt = ma[2] === 'lo';
      switch (op) {
        case '<': case '<=': case '!=': return op === '!=' ? 1 : lt ? 1 : 0;
        case '>': case '>=': return lt ? 0 : 1;
        case '==': return 0;
        default: return undefined;
      }
    }
  }
  return undefined;
}

const COMPARE = new Set(['==', '!=', '<', '>', '<=', '>=']);

/**
 * Variables whose values a condition can decide: tested for truth, compared with a constant or with a variable the
 * function assigns. A counter compared with a global (`++n <= max_ptes`) is never decidable: tracking it would
 * only multiply states.
 */
export function trackableIds(atom: Node, assigned: Set<string>, out: Set<string>, depth = 0): void {
  if (depth > 50) return;
  const known = (x: Node | null): boolean => {
    if (!x) return false;
    const u = unwrap(x);
    if (['number_literal', 'char_literal', 'true', 'false', 'null'].includes(u.type)) return true;
    if (u.type === 'identifier') return /^(NULL|true|false)$/.test(u.text) || assigned.has(u.text);
    if (u.type === 'field_expression') return assigned.has(normExpr(u.text));
    if (u.type === 'unary_expression') return known(u.childForFieldName('argument'));
    return false;
  };
  switch (atom.type) {
    case 'identifier':
    case 'field_expression':
      out.add(normExpr(atom.text));
      return;
    case 'parenthesized_expression':
      trackableIds(unwrap(atom), assigned, out, depth + 1);
      return;
    case 'unary_expression': {
      const a = atom.childForFieldName('argument');
      if (a && atom.child(0)?.text === '!') trackableIds(unwrap(a), assigned, out, depth + 1);
      return;
    }
    case 'assignment_expression': {
      const l = atom.childForFieldName('left');
      if (l) out.add(normExpr(l.text));
      return;
    }
    case 'binary_expression': {
      const op = atom.childForFieldName('operator')?.text ?? '';
      const l = atom.childForFieldName('left');
      const r = atom.childForFieldName('right');
      if (!l || !r) return;
      if (op === '&&' || op === '||') {
        trackableIds(unwrap(l), assigned, out, depth + 1);
        trackableIds(unwrap(r), assigned, out, depth + 1);
      } else if (COMPARE.has(op)) {
        if (known(r)) trackableIds(unwrap(l), assigned, out, depth + 1);
        if (known(l)) trackableIds(unwrap(r), assigned, out, depth + 1);
      }
      return;
    }
    default:
      return;
  }
}

/**
 * Predicates treated as pure: a re-test on unchanged arguments gives the same answer (`is_cow_mapping(vma->vm_flags)`
 * tested before range_start and again before range_end is one fact). Kernel naming: is_*, *_mapping, pte_*, pmd_*,
 * pud_* tests (static inline helpers that read their arguments only).
 */
export const PURE_PREDICATE = /^(?:is_\w+|\w+_mapping|pte_(?:none|present|write|dirty|young|special|devmap|protnone|same)|pmd_(?:none|present|trans_huge|devmap|write|dirty|young|bad)|pud_(?:none|present|trans_huge|devmap|bad)|huge_pte_none|vma_is_\w+|PageAnon|PageKsm|PageHuge|PageTransHuge|PageCompound)$/;

/** True when evaluating the expression may change state (calls other than pure predicates, assignments, ++/--). */
export function hasSideEffects(n: Node, depth = 0): boolean {
  if (depth > 100) return true;
  const t = n.type;
  if (t === 'call_expression') {
    const f = n.childForFieldName('function');
    if (!f || f.type !== 'identifier' || !PURE_PREDICATE.test(f.text)) return true;
    const args = n.childForFieldName('arguments');
    // `pmd_trans_huge(*pmd)` reads a page-table entry that may change (re-tested after the lock is taken): not one fact.
    if (args && /(^|[(,]\s*)\*/.test(args.text)) return true;
    return !!args && hasSideEffects(args, depth + 1);
  }
  if (t === 'assignment_expression' || t === 'update_expression' || t === 'compound_statement') return true;
  const c = n.namedChildCount;
  for (let i = 0; i < c; i++) {
    const ch = n.namedChild(i);
    if (ch && hasSideEffects(ch, depth + 1)) return true;
  }
  return false;
}
