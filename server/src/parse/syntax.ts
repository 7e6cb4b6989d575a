// Small helpers over web-tree-sitter nodes: positions, function discovery, call decomposition.
import type { Node, Tree } from 'web-tree-sitter';

export type { Node };

export function namedChildren(n: Node): Node[] {
  const out: Node[] = [];
  const c = n.namedChildCount;
  for (let i = 0; i < c; i++) {
    const ch = n.namedChild(i);
    if (ch) out.push(ch);
  }
  return out;
}

export function children(n: Node): Node[] {
  const out: Node[] = [];
  const c = n.childCount;
  for (let i = 0; i < c; i++) {
    const ch = n.child(i);
    if (ch) out.push(ch);
  }
  return out;
}

/** Strips parentheses (and likely()/unlikely() wrappers) around an expression. */
export function unwrap(n: Node): Node {
  let cur = n;
  for (;;) {
    if (cur.type === 'parenthesized_expression') {
      const inner = namedChildren(cur).filter((c) => c.type !== 'comment');
      if (inner.length === 1 && inner[0].type !== 'compound_statement') { cur = inner[0]; continue; }
      return cur;
    }
    if (cur.type === 'call_expression') {
      const fn = cur.childForFieldName('function');
      if (fn && fn.type === 'identifier' && (fn.text === 'likely' || fn.text === 'unlikely' || fn.text === '!!')) {
        const args = cur.childForFieldName('arguments');
        const a = args ? namedChildren(args).filter((c) => c.type !== 'comment') : [];
        if (a.length === 1) { cur = a[0]; continue; }
      }
    }
    return cur;
  }
}

export interface FunctionInfo {
  name: string;
  node: Node;
  body: Node;
  params: string[];
  isStatic: boolean;
  /** Offsets of the definition (for contracts lookup and text slicing). */
  start: number;
  end: number;
  bodyStart: number;
  line: number;
}

function findFunctionDeclarator(d: Node | null): Node | null {
  let cur = d;
  while (cur) {
    if (cur.type === 'function_declarator') {
      // A declarator like `(*fp)(int)` names a pointer, not a function.
      const inner = cur.childForFieldName('declarator');
      if (inner && (inner.type === 'identifier' || inner.type === 'field_identifier')) return cur;
      if (inner && inner.type === 'function_declarator') return findFunctionDeclarator(inner);
      if (inner && inner.type === 'parenthesized_declarator') return null;
      return cur;
    }
    cur = cur.childForFieldName('declarator');
  }
  return null;
}

function paramNames(fd: Node): string[] {
  const list = fd.childForFieldName('parameters');
  if (!list) return [];
  const out: string[] = [];
  for (const p of namedChildren(list)) {
    if (p.type !== 'parameter_declaration') continue;
    let d = p.childForFieldName('declarator');
    let name = '';
    while (d) {
      if (d.type === 'identifier') { name = d.text; break; }
      d = d.childForFieldName('declarator') ?? namedChildren(d).find((c) => c.type.endsWith('declarator') || c.type === 'identifier') ?? null;
    }
    out.push(name);
  }
  return out;
}

/** Every function definition in the tree, also those nested in top-level #if blocks. */
export function findFunctions(tree: Tree): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  const visit = (n: Node, depth: number): void => {
    const cnt = n.namedChildCount;
    for (let i = 0; i < cnt; i++) {
      const ch = n.namedChild(i);
      if (!ch) continue;
      const t = ch.type;
      if (t === 'function_definition') {
        const fd = findFunctionDeclarator(ch.childForFieldName('declarator'));
        const body = ch.childForFieldName('body');
        const nameNode = fd?.childForFieldName('declarator');
        if (fd && body && nameNode) {
          const isStatic = namedChildren(ch).some((c) => c.type === 'storage_class_specifier' && c.text === 'static');
          out.push({ name: nameNode.text, node: ch, body, params: paramNames(fd), isStatic, start: ch.startIndex, end: ch.endIndex, bodyStart: body.startIndex, line: ch.startPosition.row + 1 });
        }
      } else if (depth < 64 && (t === 'preproc_if' || t === 'preproc_ifdef' || t === 'preproc_else' || t === 'preproc_elif' || t === 'preproc_elifdef' || t === 'linkage_specification' || t === 'declaration_list' || t === 'ERROR')) {
        visit(ch, depth + 1);
      }
    }
  };
  visit(tree.rootNode, 0);
  return out;
}

/** Callee name of a call expression (identifier or the field of a member access), or ''. */
export function calleeName(call: Node): string {
  const fn = call.childForFieldName('function');
  if (!fn) return '';
  if (fn.type === 'identifier') return fn.text;
  return '';
}

export function callArgs(call: Node): Node[] {
  const a = call.childForFieldName('arguments');
  return a ? namedChildren(a).filter((c) => c.type !== 'comment') : [];
}

/** Normalises a lock or lvalue expression: no spaces, no outer parens/&, (&x)->f == x.f, *&x == x. */
export function normExpr(text: string): string {
  let s = text.replace(/\s+/g, '');
  for (let i = 0; i < 4; i++) {
    const before = s;
    s = s.replace(/\(&([\w.>-]+)\)->/g, '$1.').replace(/^\*\(&([\w.>-]+)\)$/, '$1').replace(/^\*&/, '').replace(/^&/, '');
    if (/^\(([\w.>*-]+)\)$/.test(s)) s = s.slice(1, -1);
    s = s.replace(/(^|[*&])\(([A-Za-z_][\w.>-]*)\)/g, '$1$2');
    s = s.replace(/^\(\*([\w]+)\)->/, '$1->');
    if (s === before) break;
  }
  return s;
}
