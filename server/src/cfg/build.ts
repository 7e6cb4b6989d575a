// Control-flow graph of one C function, built by walking the syntax tree with pending-edge lists (ESLint code-path style).
import { namedChildren, unwrap, calleeName, type Node } from '../parse/syntax';

export type NodeKind = 'entry' | 'exit' | 'stmt' | 'cond' | 'join' | 'goto' | 'return';
export type EdgeKind = 'next' | 'true' | 'false' | 'case' | 'default' | 'break' | 'continue' | 'loop' | 'goto';

export interface CfgEdge {
  to: number;
  kind: EdgeKind;
}

export interface CfgNode {
  id: number;
  kind: NodeKind;
  /** The statement, declaration or condition expression this node evaluates. */
  syntax?: Node;
  /** Short label for the printer: statement text, condition, label name. */
  label: string;
  line: number;
  succ: CfgEdge[];
  /** Condition from a #if (no facts can be drawn from it). */
  preproc?: boolean;
  /** The statement ends in a call that never returns (BUG(), panic()). */
  noreturn?: boolean;
}

export interface Cfg {
  name: string;
  nodes: CfgNode[];
  entry: number;
  exit: number;
  /** Gotos whose label was not found (kept as edges to exit). */
  unresolvedGotos: string[];
}

interface Pending {
  from: number;
  kind: EdgeKind;
}

interface LoopCtx {
  breaks: Pending[];
  continues: Pending[] | null; // null for switch (continue goes to the enclosing loop)
}

const MAX_DEPTH = 400;

/** Builds CFGs; `isNoreturn` tells which callee names never return. */
export class CfgBuilder {
  private nodes: CfgNode[] = [];
  private labels = new Map<string, number>();
  private gotos: Array<{ from: number; label: string }> = [];
  private ctx: LoopCtx[] = [];
  private exitId = -1;
  private depth = 0;

  constructor(private readonly isNoreturn: (name: string) => boolean) {}

  build(name: string, body: Node): Cfg {
    this.nodes = [];
    this.labels.clear();
    this.gotos = [];
    this.ctx = [];
    const entry = this.add('entry', undefined, name, body.startPosition.row + 1);
    this.exitId = -2; // placeholder until created
    const ends = this.stmt(body, [{ from: entry, kind: 'next' }]);
    const exit = this.add('exit', undefined, 'exit', body.endPosition.row + 1);
    this.exitId = exit;
    // Returns created before the exit node pointed at -2; patch them.
    for (const n of this.nodes) for (const e of n.succ) if (e.to === -2) e.to = exit;
    this.connect(ends, exit);
    const unresolved: string[] = [];
    for (const g of this.gotos) {
      const target = this.labels.get(g.label);
      if (target === undefined) {
        unresolved.push(g.label);
        this.nodes[g.from].succ.push({ to: exit, kind: 'goto' });
      } else this.nodes[g.from].succ.push({ to: target, kind: 'goto' });
    }
    return { name, nodes: this.nodes, entry, exit, unresolvedGotos: unresolved };
  }

  private add(kind: NodeKind, syntax: Node | undefined, label: string, line: number): number {
    const id = this.nodes.length;
    this.nodes.push({ id, kind, syntax, label, line, succ: [] });
    return id;
  }

  private connect(preds: Pending[], to: number): void {
    for (const p of preds) this.nodes[p.from].succ.push({ to, kind: p.kind });
  }

  private node(kind: NodeKind, syntax: Node | undefined, preds: Pending[], label?: string): number {
    const id = this.add(kind, syntax, label ?? short(syntax), (syntax?.startPosition.row ?? 0) + 1);
    this.connect(preds, id);
    return id;
  }

  /** Builds a statement reached from `preds`; returns the pending edges leaving it normally. */
  private stmt(n: Node, preds: Pending[]): Pending[] {
    if (this.depth > MAX_DEPTH) throw new Error(`statements nested deeper than ${MAX_DEPTH} levels`);
    this.depth++;
    try {
      return this.stmtInner(n, preds);
    } finally {
      this.depth--;
    }
  }

  private stmtInner(n: Node, preds: Pending[]): Pending[] {
    switch (n.type) {
      case 'compound_statement': {
        let cur = preds;
        for (const c of namedChildren(n)) cur = this.stmt(c, cur);
        return cur;
      }
      case 'comment':
      case 'preproc_call':
      case 'preproc_def':
      case 'preproc_function_def':
      case 'preproc_include':
      case 'type_definition':
        return preds;
      case 'expression_statement':
      case 'declaration': {
        if (n.type === 'expression_statement' && n.namedChildCount === 0) return preds;
        const id = this.node('stmt', n, preds);
        if (endsInNoreturn(n, this.isNoreturn)) {
          this.nodes[id].noreturn = true;
          return [];
        }
        return [{ from: id, kind: 'next' }];
      }
      case 'return_statement': {
        const id = this.node('return', n, preds);
        this.nodes[id].succ.push({ to: this.exitId, kind: 'next' });
        return [];
      }
      case 'if_statement': {
        const c = this.cond(n.childForFieldName('condition'), preds);
        const cons = n.childForFieldName('consequence');
        const t = cons ? this.stmt(cons, c.t) : c.t;
        const alt = n.childForFieldName('alternative');
        let f = c.f;
        if (alt) {
          const inner = alt.type === 'else_clause' ? namedChildren(alt).find((x) => x.type !== 'comment') : alt;
          if (inner) f = this.stmt(inner, c.f);
        }
        return t.concat(f);
      }
      case 'while_statement': {
        const head = this.node('join', undefined, preds, 'while');
        this.nodes[head].line = n.startPosition.row + 1;
        const c = this.cond(n.childForFieldName('condition'), [{ from: head, kind: 'next' }]);
        const ctx: LoopCtx = { breaks: [], continues: [] };
        this.ctx.push(ctx);
        const bodyNode = n.childForFieldName('body');
        const ends = bodyNode ? this.stmt(bodyNode, c.t) : c.t;
        this.ctx.pop();
        this.connect(ends.concat(ctx.continues!).map((p) => ({ ...p, kind: p.kind === 'next' ? 'loop' : p.kind })), head);
        return c.f.concat(ctx.breaks);
      }
      case 'do_statement': {
        const head = this.node('join', undefined, preds, 'do');
        this.nodes[head].line = n.startPosition.row + 1;
        const ctx: LoopCtx = { breaks: [], continues: [] };
        this.ctx.push(ctx);
        const bodyNode = n.childForFieldName('body');
        const ends = bodyNode ? this.stmt(bodyNode, [{ from: head, kind: 'next' }]) : [{ from: head, kind: 'next' as EdgeKind }];
        this.ctx.pop();
        const c = this.cond(n.childForFieldName('condition'), ends.concat(ctx.continues!));
        this.connect(c.t.map((p) => ({ ...p })), head);
        return c.f.concat(ctx.breaks);
      }
      case 'for_statement': {
        let cur = preds;
        const init = n.childForFieldName('initializer');
        if (init) cur = [{ from: this.node('stmt', init, cur), kind: 'next' }];
        const head = this.node('join', undefined, cur, 'for');
        this.nodes[head].line = n.startPosition.row + 1;
        const condNode = n.childForFieldName('condition');
        const c = condNode ? this.cond(condNode, [{ from: head, kind: 'next' }]) : { t: [{ from: head, kind: 'next' as EdgeKind }], f: [] as Pending[] };
        const ctx: LoopCtx = { breaks: [], continues: [] };
        this.ctx.push(ctx);
        const bodyNode = n.childForFieldName('body');
        const ends = bodyNode ? this.stmt(bodyNode, c.t) : c.t;
        this.ctx.pop();
        const upd = n.childForFieldName('update');
        let back = ends.concat(ctx.continues!);
        if (upd) back = [{ from: this.node('stmt', upd, back), kind: 'next' }];
        this.connect(back.map((p) => ({ ...p, kind: p.kind === 'next' ? 'loop' : p.kind })), head);
        return c.f.concat(ctx.breaks);
      }
      case 'switch_statement': {
        const condNode = n.childForFieldName('condition');
        const sw = this.node('stmt', condNode ?? n, preds, `switch ${condNode ? short(condNode) : ''}`);
        const ctx: LoopCtx = { breaks: [], continues: null };
        this.ctx.push(ctx);
        const body = n.childForFieldName('body');
        let fall: Pending[] = [];
        let hasDefault = false;
        for (const c of body ? namedChildren(body) : []) {
          if (c.type === 'case_statement') {
            const value = c.childForFieldName('value');
            if (!value) hasDefault = true;
            const label = this.node('join', undefined, fall.concat([{ from: sw, kind: value ? 'case' : 'default' }]), value ? `case ${value.text}` : 'default');
            this.nodes[label].line = c.startPosition.row + 1;
            let cur: Pending[] = [{ from: label, kind: 'next' }];
            for (const s of namedChildren(c)) if (!value || s.id !== value.id) cur = this.stmt(s, cur);
            fall = cur;
          } else fall = this.stmt(c, fall);
        }
        this.ctx.pop();
        const out = fall.concat(ctx.breaks);
        if (!hasDefault) out.push({ from: sw, kind: 'default' });
        return out;
      }
      case 'break_statement': {
        const ctx = this.ctx[this.ctx.length - 1];
        if (ctx) ctx.breaks.push(...preds.map((p) => ({ ...p, kind: p.kind === 'next' ? ('break' as EdgeKind) : p.kind })));
        return [];
      }
      case 'continue_statement': {
        for (let i = this.ctx.length - 1; i >= 0; i--) {
          const c = this.ctx[i].continues;
          if (c) {
            c.push(...preds.map((p) => ({ ...p, kind: p.kind === 'next' ? ('continue' as EdgeKind) : p.kind })));
            break;
          }
        }
        return [];
      }
      case 'goto_statement': {
        const label = n.childForFieldName('label')?.text ?? '';
        const id = this.node('goto', n, preds, `goto ${label}`);
        this.gotos.push({ from: id, label });
        return [];
      }
      case 'labeled_statement': {
        const label = n.childForFieldName('label')?.text ?? '';
        const id = this.node('join', undefined, preds, `${label}:`);
        this.nodes[id].line = n.startPosition.row + 1;
        this.labels.set(label, id);
        let cur: Pending[] = [{ from: id, kind: 'next' }];
        for (const c of namedChildren(n)) if (c.type !== 'statement_identifier') cur = this.stmt(c, cur);
        return cur;
      }
      case 'preproc_if':
      case 'preproc_ifdef':
      case 'preproc_elif':
      case 'preproc_elifdef': {
        // Both branches of a balanced #if are possible configurations.
        const condText = n.type === 'preproc_ifdef' || n.type === 'preproc_elifdef'
          ? `#${n.child(0)?.text.replace('#', '') ?? 'ifdef'} ${n.childForFieldName('name')?.text ?? ''}`
          : `#if ${n.childForFieldName('condition')?.text ?? ''}`;
        const c = this.node('cond', undefined, preds, condText);
        this.nodes[c].preproc = true;
        this.nodes[c].line = n.startPosition.row + 1;
        const alt = n.childForFieldName('alternative');
        const skip = new Set([alt?.id, n.childForFieldName('condition')?.id, n.childForFieldName('name')?.id]);
        let t: Pending[] = [{ from: c, kind: 'true' }];
        for (const s of namedChildren(n)) {
          if (skip.has(s.id) || s.type === 'identifier') continue;
          t = this.stmt(s, t);
        }
        const fPreds: Pending[] = [{ from: c, kind: 'false' }];
        const f = alt ? this.stmt(alt, fPreds) : fPreds;
        return t.concat(f);
      }
      case 'preproc_else': {
        let cur = preds;
        for (const s of namedChildren(n)) cur = this.stmt(s, cur);
        return cur;
      }
      case 'attributed_statement': {
        const inner = namedChildren(n).filter((c) => c.type !== 'attribute_declaration');
        let cur = preds;
        for (const s of inner) cur = this.stmt(s, cur);
        return cur;
      }
      case 'function_definition':
        return preds; // nested function (GNU C): analysed on its own
      default: {
        // ERROR nodes, asm, and anything unknown: one opaque statement (its calls still count).
        const id = this.node('stmt', n, preds);
        return [{ from: id, kind: 'next' }];
      }
    }
  }

  /** Builds the short-circuit decomposition of a condition. */
  private cond(expr: Node | null, preds: Pending[]): { t: Pending[]; f: Pending[] } {
    if (!expr) {
      const id = this.node('cond', undefined, preds, '?');
      return { t: [{ from: id, kind: 'true' }], f: [{ from: id, kind: 'false' }] };
    }
    const e = unwrap(expr);
    if (e.type === 'unary_expression' && e.child(0)?.text === '!') {
      const arg = e.childForFieldName('argument');
      if (arg) {
        const r = this.cond(arg, preds);
        // Edges are labelled with the truth of the atom, so negation swaps the lists, not the labels.
        return { t: r.f, f: r.t };
      }
    }
    if (e.type === 'binary_expression') {
      const op = e.childForFieldName('operator')?.text;
      const l = e.childForFieldName('left');
      const r = e.childForFieldName('right');
      if (l && r && op === '&&') {
        const a = this.cond(l, preds);
        const b = this.cond(r, a.t);
        return { t: b.t, f: a.f.concat(b.f) };
      }
      if (l && r && op === '||') {
        const a = this.cond(l, preds);
        const b = this.cond(r, a.f);
        return { t: a.t.concat(b.t), f: b.f };
      }
    }
    if (e.type === 'conditional_expression') {
      const c = e.childForFieldName('condition');
      const x = e.childForFieldName('consequence');
      const y = e.childForFieldName('alternative');
      if (c && x && y) {
        const cc = this.cond(c, preds);
        const tx = this.cond(x, cc.t);
        const ty = this.cond(y, cc.f);
        return { t: tx.t.concat(ty.t), f: tx.f.concat(ty.f) };
      }
    }
    if (e.type === 'number_literal' || e.type === 'true' || e.type === 'false') {
      const v = e.type === 'true' || (e.type === 'number_literal' && Number(e.text.replace(/[uUlL]+$/, '')) !== 0);
      const id = this.node('cond', e, preds);
      return v ? { t: [{ from: id, kind: 'true' }], f: [] } : { t: [], f: [{ from: id, kind: 'false' }] };
    }
    const id = this.node('cond', e, preds);
    return { t: [{ from: id, kind: 'true' }], f: [{ from: id, kind: 'false' }] };
  }
}

function endsInNoreturn(n: Node, isNoreturn: (name: string) => boolean): boolean {
  const e = n.type === 'expression_statement' ? n.namedChild(0) : null;
  if (!e || e.type !== 'call_expression') return false;
  return isNoreturn(calleeName(e));
}

/** One-line label of a syntax node for the printer (whitespace collapsed, cut at 60 characters). */
export function short(n: Node | undefined): string {
  if (!n) return '';
  const t = n.text.replace(/\s+/g, ' ').trim();
  return t.length > 60 ? t.slice(0, 57) + '...' : t;
}
