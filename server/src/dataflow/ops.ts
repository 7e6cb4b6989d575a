// Extraction of the operations a CFG node performs (calls and assignments in evaluation order) from its syntax.
import { callArgs, calleeName, namedChildren, normExpr, unwrap, type Node } from '../parse/syntax';
import type { CfgNode } from '../cfg/build';

export interface CallOp {
  k: 'call';
  name: string;
  node: Node;
  args: Node[];
  /** Normalised assignment target when the call's value is assigned (`pte = f()`), or declared (`pte_t *pte = f()`). */
  lhs?: string;
  /** The call is the whole condition atom of a cond node (its value decides the branch). */
  isCondAtom: boolean;
  /** The atom compares the call with 0 (`f() == 0`): the branch's truth is the opposite of the call's. */
  condInverted?: boolean;
}

export interface AssignOp {
  k: 'assign';
  target: string;
  /** Right-hand side, or null for `x++`-like updates and declarations without initialiser. */
  rhs: Node | null;
  op: string;
}

export interface ReturnOp {
  k: 'return';
  value: Node | null;
}

export type Op = CallOp | AssignOp | ReturnOp;

/** Operations of a CFG node, in the order C evaluates them (arguments before the call, right side before assignment). */
export function extractOps(n: CfgNode): Op[] {
  const s = n.syntax;
  if (!s) return [];
  const ops: Op[] = [];
  const atom = n.kind === 'cond' ? unwrap(s) : null;
  walk(s, ops, atom, 0);
  if (n.kind === 'return') {
    const v = namedChildren(s).find((c) => c.type !== 'comment') ?? null;
    ops.push({ k: 'return', value: v });
  }
  return ops;
}

function walk(n: Node, ops: Op[], atom: Node | null, depth: number): void {
  if (depth > 400) return;
  const t = n.type;
  if (t === 'call_expression') {
    for (const a of callArgs(n)) walk(a, ops, atom, depth + 1);
    const fn = n.childForFieldName('function');
    if (fn && fn.type !== 'identifier') walk(fn, ops, atom, depth + 1);
    const name = calleeName(n);
    if (name) {
      const cmp = atom ? comparedWithConstant(atom, n) : undefined;
      ops.push({ k: 'call', name, node: n, args: callArgs(n), isCondAtom: (atom !== null && atom.id === n.id) || cmp !== undefined, condInverted: cmp, lhs: lhsOf(n) });
    }
    return;
  }
  if (t === 'assignment_expression') {
    const left = n.childForFieldName('left');
    const right = n.childForFieldName('right');
    if (right) walk(right, ops, atom, depth + 1);
    if (left && left.type !== 'identifier') walk(left, ops, atom, depth + 1);
    const op = n.childForFieldName('operator')?.text ?? '=';
    if (left) ops.push({ k: 'assign', target: normExpr(left.text), rhs: right ? unwrap(right) : null, op });
    return;
  }
  if (t === 'init_declarator') {
    const d = n.childForFieldName('declarator');
    const v = n.childForFieldName('value');
    if (v) walk(v, ops, atom, depth + 1);
    const name = declName(d);
    if (name) ops.push({ k: 'assign', target: name, rhs: v ? unwrap(v) : null, op: '=' });
    return;
  }
  if (t === 'update_expression') {
    const arg = n.childForFieldName('argument');
    const op = n.childForFieldName('operator')?.text ?? '++';
    if (arg) ops.push({ k: 'assign', target: normExpr(arg.text), rhs: null, op });
    return;
  }
  if (t === 'declaration') {
    for (const c of namedChildren(n)) {
      if (c.type === 'init_declarator') walk(c, ops, atom, depth + 1);
      else if (c.type === 'identifier' || c.type === 'pointer_declarator' || c.type === 'array_declarator') {
        const name = declName(c);
        if (name) ops.push({ k: 'assign', target: name, rhs: null, op: 'decl' });
      }
    }
    return;
  }
  const cnt = n.namedChildCount;
  for (let i = 0; i < cnt; i++) {
    const c = n.namedChild(i);
    if (c) walk(c, ops, atom, depth + 1);
  }
}

/**
 * For an atom `f() == 0`, `f() != 0`, `f() == 1` (or NULL): whether the branch truth inverts the call's truth;
 * undefined when the atom is not such a comparison of this call.
 */
function comparedWithConstant(atom: Node, call: Node): boolean | undefined {
  if (atom.type !== 'binary_expression') return undefined;
  const op = atom.childForFieldName('operator')?.text;
  if (op !== '==' && op !== '!=') return undefined;
  const l = atom.childForFieldName('left');
  const r = atom.childForFieldName('right');
  if (!l || !r) return undefined;
  const side = unwrap(l).id === call.id ? r : unwrap(r).id === call.id ? l : undefined;
  if (!side) return undefined;
  const t = unwrap(side).text;
  const zero = t === '0' || t === 'NULL' || t === 'false';
  if (!zero && t !== '1' && t !== 'true') return undefined;
  // `== 0` and `!= 1` invert; `!= 0` and `== 1` do not.
  return (op === '==') === zero;
}

function declName(d: Node | null): string | undefined {
  let cur = d;
  while (cur) {
    if (cur.type === 'identifier') return cur.text;
    cur = cur.childForFieldName('declarator');
  }
  return undefined;
}

/** The variable a call's value is stored in, when the call is the whole right side of an assignment or initialiser. */
function lhsOf(call: Node): string | undefined {
  let p = call.parent;
  let child: Node = call;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) {
    child = p;
    p = p.parent;
  }
  if (!p) return undefined;
  if (p.type === 'assignment_expression' && p.childForFieldName('right')?.id === child.id) {
    const l = p.childForFieldName('left');
    return l ? normExpr(l.text) : undefined;
  }
  if (p.type === 'init_declarator' && p.childForFieldName('value')?.id === child.id) return declName(p.childForFieldName('declarator'));
  return undefined;
}

/** Identifiers used in a condition atom (they are the variables worth tracking facts for). */
export function conditionIdentifiers(n: Node, out: Set<string>, depth = 0): void {
  if (depth > 200) return;
  if (n.type === 'identifier') out.add(n.text);
  else if (n.type === 'field_expression') out.add(normExpr(n.text));
  const cnt = n.namedChildCount;
  for (let i = 0; i < cnt; i++) {
    const c = n.namedChild(i);
    if (c && c.type !== 'call_expression') conditionIdentifiers(c, out, depth + 1);
    else if (c) for (const a of callArgs(c)) conditionIdentifiers(a, out, depth + 1);
  }
}
