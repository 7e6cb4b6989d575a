// Syntax nodes for the analysis: a plain JS copy of each analysed function's subtree, function discovery, helpers.
import type { Language, Node as TSNode, Tree } from 'web-tree-sitter';
import { lineStartsOf, pointAt } from './ranges';
import { RECORD_INTS, wasmWalker, type TsModule } from './walker';

let runtime: TsModule | undefined;
/** The web-tree-sitter runtime module (set by the parser once loaded): subtrees are then walked inside wasm. */
export function useRuntime(m: TsModule | undefined): TsModule | undefined {
  const before = runtime;
  runtime = m;
  return before;
}
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface Point {
  row: number;
  column: number;
}

let nextId = 1;

/**
 * A syntax node copied out of tree-sitter once (one cursor walk per function): the analysis visits nodes many times,
 * and every web-tree-sitter Node access crosses into wasm and allocates. Same names as web-tree-sitter's Node.
 */
export class Node {
  readonly id = nextId++;
  parent: Node | null = null;
  fieldName: string | null = null;
  readonly children: Node[] = [];
  private named: Node[] | undefined;
  private sp: Point | undefined;
  private ep: Point | undefined;
  constructor(
    readonly type: string,
    readonly isNamed: boolean,
    readonly startIndex: number,
    readonly endIndex: number,
    private readonly src: string,
    /** Line start offsets of `src`: positions are computed from offsets when first asked for. */
    private readonly lines: number[],
  ) {}
  /** Row and UTF-16 column, as tree-sitter reports them. */
  get startPosition(): Point {
    return (this.sp ??= pointAt(this.lines, this.startIndex));
  }
  get endPosition(): Point {
    return (this.ep ??= pointAt(this.lines, this.endIndex));
  }
  get text(): string {
    return this.src.slice(this.startIndex, this.endIndex);
  }
  private namedList(): Node[] {
    return (this.named ??= this.children.filter((c) => c.isNamed));
  }
  get namedChildCount(): number {
    return this.namedList().length;
  }
  namedChild(i: number): Node | null {
    return this.namedList()[i] ?? null;
  }
  get childCount(): number {
    return this.children.length;
  }
  child(i: number): Node | null {
    return this.children[i] ?? null;
  }
  childForFieldName(name: string): Node | null {
    for (const c of this.children) if (c.fieldName === name) return c;
    return null;
  }
}

/** Makes a node from a type id and offsets; links a node to its parent under a field id (both copy paths). */
type BuildNode = (typeId: number, start: number, end: number) => Node;
type AttachNode = (n: Node, parent: Node, fieldId: number) => void;

/** Whether each node type is named, asked of the grammar once per type (a node's own answer costs a wasm call). */
const namedTables = new WeakMap<Language, Map<number, boolean>>();

/**
 * Copies a tree-sitter subtree with one cursor walk (iterative: nesting depth is unbounded). Per node it asks only
 * what the cursor cannot derive: type id, start and end offsets, field id; names come from the grammar's tables and
 * positions from `lines`.
 */
export function copySubtree(root: TSNode, src: string, lines: number[]): Node {
  const lang = root.tree.language;
  const types = lang.types;
  const fields = lang.fields;
  let named = namedTables.get(lang);
  if (!named) namedTables.set(lang, (named = new Map()));
  const table = named;
  const isNamed = (t: number): boolean => {
    let v = table.get(t);
    if (v === undefined) table.set(t, (v = lang.nodeTypeIsNamed(t)));
    return v;
  };
  const build: BuildNode = (t, start, end) => new Node(types[t] || 'ERROR', isNamed(t), start, end, src, lines);
  const attach: AttachNode = (n, parent, fieldId) => {
    n.fieldName = fields[fieldId] ?? null;
    n.parent = parent;
    parent.children.push(n);
  };
  const walk = LITTLE_ENDIAN ? wasmWalker(runtime) : undefined;
  if (walk && runtime) {
    const fast = copyInWasm(root, walk, runtime, build, attach);
    if (fast) return fast;
  }
  const c = root.walk();
  const make = (): Node => build(c.nodeTypeId, c.startIndex, c.endIndex);
  const top = make();
  const stack: Node[] = [top];
  try {
    if (!c.gotoFirstChild()) return top;
    for (;;) {
      const n = make();
      attach(n, stack[stack.length - 1], c.currentFieldId);
      if (c.gotoFirstChild()) {
        stack.push(n);
        continue;
      }
      while (!c.gotoNextSibling()) {
        if (!c.gotoParent() || stack.length === 1) return top;
        stack.pop();
      }
    }
  } finally {
    c.delete();
  }
}

/**
 * The same copy with the cursor walk inside wasm (see walker.ts): one record per node, read back from wasm memory.
 * Undefined if the walk did not finish within the node count tree-sitter gave (the caller then copies in JS).
 */
function copyInWasm(root: TSNode, walk: (tree: number, out: number, cap: number) => number, m: TsModule, build: BuildNode, attach: AttachNode): Node | undefined {
  // descendantCount goes through the transfer buffer: asked before the cursor is put there.
  const count = root.descendantCount;
  const tree = (root.tree as unknown as { [0]: number })[0];
  const cap = count + 1;
  const out = m._malloc(cap * RECORD_INTS * 4);
  if (!out) return undefined;
  try {
    root.walk(); // the cursor now lives in the transfer buffer, where the walk moves it
    let n: number;
    try {
      n = walk(tree, out, cap);
    } finally {
      m._ts_tree_cursor_delete_wasm(tree); // the walked cursor (the JS TreeCursor object only holds its start)
    }
    if (n < 1 || n > count) return undefined;
    const rec = new Int32Array(m.wasmMemory.buffer, out, n * RECORD_INTS);
    const nodes: Node[] = new Array(n);
    for (let i = 0, k = 0; i < n; i++, k += RECORD_INTS) {
      const node = build(rec[k], rec[k + 1], rec[k + 2]);
      const p = rec[k + 4];
      if (p >= 0) attach(node, nodes[p], rec[k + 3]);
      nodes[i] = node;
    }
    return nodes[0];
  } finally {
    m._free(out);
  }
}

export function namedChildren(n: Node): Node[] {
  const out: Node[] = [];
  const c = n.namedChildCount;
  for (let i = 0; i < c; i++) {
    const ch = n.namedChild(i);
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
  /** The function_definition node (copied out of the tree on first use). */
  readonly node: Node;
  readonly body: Node;
  readonly params: string[];
  readonly isStatic: boolean;
  /** Offsets of the definition (for contracts lookup and text slicing). */
  start: number;
  end: number;
  bodyStart: number;
  line: number;
  endLine: number;
}

/** FunctionInfo whose syntax copy is made only for the functions that get analysed. */
class LazyFunction implements FunctionInfo {
  private copy: Node | undefined;
  private ps: string[] | undefined;
  private st: boolean | undefined;
  constructor(
    readonly name: string,
    private readonly ts: TSNode,
    private readonly fd: TSNode,
    private readonly src: string,
    private readonly lines: number[],
    readonly start: number,
    readonly end: number,
    readonly bodyStart: number,
    readonly line: number,
    readonly endLine: number,
  ) {}
  get node(): Node {
    return (this.copy ??= copySubtree(this.ts, this.src, this.lines));
  }
  get params(): string[] {
    return (this.ps ??= paramNames(this.fd));
  }
  get isStatic(): boolean {
    return (this.st ??= (this.ts.namedChildren as TSNode[]).some((c) => c && c.type === 'storage_class_specifier' && c.text === 'static'));
  }
  get body(): Node {
    return this.node.childForFieldName('body')!;
  }
}

function findFunctionDeclarator(d: TSNode | null): TSNode | null {
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

function paramNames(fd: TSNode): string[] {
  const list = fd.childForFieldName('parameters');
  if (!list) return [];
  const out: string[] = [];
  for (const p of list.namedChildren as TSNode[]) {
    if (!p) continue;
    if (p.type !== 'parameter_declaration') continue;
    let d = p.childForFieldName('declarator');
    let name = '';
    while (d) {
      if (d.type === 'identifier') { name = d.text; break; }
      d = d.childForFieldName('declarator') ?? (d.namedChildren.filter(Boolean) as TSNode[]).find((c) => c.type.endsWith('declarator') || c.type === 'identifier') ?? null;
    }
    out.push(name);
  }
  return out;
}

/** Every function definition in the tree, also those nested in top-level #if blocks; `src` is the parsed text. */
export function findFunctions(tree: Tree, src?: string, lineStarts?: number[]): FunctionInfo[] {
  const text = src ?? tree.rootNode.text;
  let lines = lineStarts;
  const out: FunctionInfo[] = [];
  const visit = (n: TSNode, depth: number): void => {
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
          lines ??= lineStartsOf(text);
          out.push(new LazyFunction(nameNode.text, ch, fd, text, lines, ch.startIndex, ch.endIndex, body.startIndex, ch.startPosition.row + 1, ch.endPosition.row + 1));
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
