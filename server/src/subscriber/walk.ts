// The sleep walk of the subscriber rules: from a callback's entry, every path of its CFG is followed with what is known
// of the range's blockable flag (unknown, tested true, known false); a call that may sleep reached while the flag is not
// known true is a sleep site. Calls are followed into their definitions (across files, every definition of a name that
// several architectures define), with what their arguments say of the flag (a carrier of it, or a constant), and so are
// functions passed as arguments to a helper that calls that parameter, or put in a designated initializer whose field
// a callee calls. Results are memoised per (function, facts of its parameters, entry state).
import { CfgBuilder, type Cfg, type CfgNode } from '../cfg/build';
import { extractOps, type CallOp, type Op } from '../dataflow/ops';
import { calleeName, namedChildren, normExpr, unwrap, type FunctionInfo, type Node } from '../parse/syntax';
import { DRIVER_LOCK, DRIVER_TRYLOCK, DRIVER_UNLOCK, sleepingCall } from '../kernel/subscriber';
import type { PathEvent } from '../engine/types';

export interface FnRef {
  file: string;
  fn: FunctionInfo;
  text: string;
}

export interface Graph {
  cfg: Cfg;
  ops: Op[][];
  params: string[];
  /** Locals and parameters (a name among them is not a function value). */
  locals: Set<string>;
  /** Fields this function calls through a pointer (`x->f(...)`, `x.f(...)`). */
  calledFields: Set<string>;
}

export interface WalkHost {
  defs(name: string, fromFile: string): FnRef[];
  graph(ref: FnRef): Graph;
  /** Counts work; throws when the walk is over its budget. */
  tick(): void;
}

/** What a parameter is known to hold: the blockable flag (or a value that carries it), or a constant. */
export type Fact = 'carrier' | 'true' | 'false' | `fn:${string}`;
/** 0: not known (may be non-blockable), 1: blockable (tested true), 2: known non-blockable (or an atomic callback). */
export type Status = 0 | 1 | 2;

export interface SleepSite {
  /** file:line:column of the sleeping call. */
  key: string;
  file: string;
  /** The function that contains the sleeping call. */
  fn: string;
  node: Node;
  /** What sleeps: "mutex_lock", "kzalloc(GFP_KERNEL)". */
  label: string;
  /** The lock a sleeping lock call takes (its first argument). */
  lock?: string;
  /** Witness path from the walked function's entry to the sleep. */
  path: PathEvent[];
  /** In the walked function: the call (or the sleep itself) through which the sleep is reached. */
  step: Node;
  /** In the walked function: driver locks taken on the path and still held at `step` (their lock calls). */
  held: Node[];
  /** Conditions on the path (walked function only) that a branch was decided by. */
  conds: Node[];
  /** Further sleeps reached through the same call (reported as related information of this one, not on their own). */
  also?: Array<{ file: string; line: number; column: number; label: string }>;
}

const BLOCK_NAMES = new Set(['blockable', 'may_block', 'can_block', 'mayblock', 'can_sleep']);
const MAX_PATH = 200;

/** Builds the walk graph of one function (CFG, operations, locals, fields it calls). */
export function buildGraph(fn: FunctionInfo, isNoreturn: (n: string) => boolean): Graph {
  const cfg = new CfgBuilder(isNoreturn).build(fn.name, fn.body);
  const ops = cfg.nodes.map((n) => extractOps(n));
  const locals = new Set(fn.params.filter(Boolean));
  const calledFields = new Set<string>();
  const visit = (n: Node, depth: number): void => {
    if (depth > 300) return;
    if (n.type === 'declaration' || n.type === 'parameter_declaration') {
      for (const id of declaredNames(n)) locals.add(id);
    }
    if (n.type === 'call_expression') {
      const f = n.childForFieldName('function');
      if (f && f.type === 'field_expression') {
        const field = f.childForFieldName('field');
        if (field) calledFields.add(field.text);
      } else if (f && f.type === 'parenthesized_expression') {
        const m = /(\w+)\s*\)$/.exec(f.text);
        if (m) calledFields.add(m[1]);
      }
    }
    for (const c of n.children) visit(c, depth + 1);
  };
  visit(fn.body, 0);
  return { cfg, ops, params: fn.params, locals, calledFields };
}

function declaredNames(decl: Node): string[] {
  const out: string[] = [];
  for (const c of namedChildren(decl)) {
    let d: Node | null = c;
    if (c.type === 'init_declarator') d = c.childForFieldName('declarator');
    while (d && d.type !== 'identifier') d = d.childForFieldName('declarator') ?? namedChildren(d).find((x) => x.type === 'identifier' || x.type.endsWith('declarator')) ?? null;
    if (d && d.type === 'identifier' && c.type !== 'primitive_type' && c.type !== 'type_identifier') out.push(d.text);
  }
  return out;
}

interface Ctx {
  ref: FnRef;
  g: Graph;
  facts: Map<string, Fact>;
  carriers: Set<string>;
  /** Locals that keep their initial value on every path the walk can take ('empty' list head, or 'zero'). */
  frozen?: Map<string, 'empty' | 'zero'>;
}

export class SleepWalker {
  private readonly memo = new Map<string, SleepSite[]>();
  private readonly stack = new Set<string>();

  constructor(private readonly host: WalkHost, private readonly maxDepth = 8) {}

  /** Sleep sites reachable from the entry of `ref`, entered with `status`, its parameters holding `facts`. */
  sleeps(ref: FnRef, facts: Map<string, Fact>, status: Status, depth = 0): SleepSite[] {
    const key = `${ref.file}\0${ref.fn.start}\0${status}\0${[...facts].map(([k, v]) => `${k}=${v}`).sort().join(',')}`;
    const done = this.memo.get(key);
    if (done) return done;
    if (this.stack.has(key)) return [];
    this.stack.add(key);
    try {
      const r = this.walk(ref, facts, status, depth);
      this.memo.set(key, r);
      return r;
    } finally {
      this.stack.delete(key);
    }
  }

  private walk(ref: FnRef, facts: Map<string, Fact>, status: Status, depth: number): SleepSite[] {
    const g = this.host.graph(ref);
    const ctx: Ctx = { ref, g, facts, carriers: localCarriers(g, facts) };
    const first = this.explore(ctx, status, depth);
    // Locals that only change where the flag is known true (i915 queues work in the loop after its blockable test, then
    // flushes "if the list is not empty"): on the other paths they keep their initial value, and tests of them decide.
    const frozen = frozenLocals(g, first.visited);
    if (!frozen.size) return first.sites;
    ctx.frozen = frozen;
    return this.explore(ctx, status, depth).sites;
  }

  private explore(ctx: Ctx, status: Status, depth: number): { sites: SleepSite[]; visited: Uint8Array } {
    const { g, ref } = ctx;
    const nodes = g.cfg.nodes;
    const visited = new Uint8Array(nodes.length);
    const parent = new Int32Array(nodes.length * 3).fill(-2);
    const edgeOf: string[] = new Array(nodes.length * 3);
    const sites = new Map<string, SleepSite>();
    const start = g.cfg.entry * 3 + status;
    parent[start] = -1;
    const queue = [start];
    for (let qi = 0; qi < queue.length; qi++) {
      const sid = queue[qi];
      const id = (sid / 3) | 0;
      const s = (sid % 3) as Status;
      this.host.tick();
      visited[id] = 1;
      if (s !== 1) {
        const ops = g.ops[id];
        for (let oi = 0; oi < ops.length; oi++) {
          const op = ops[oi];
          if (op.k !== 'call') continue;
          this.call(ctx, op, s, depth, (found) => {
            for (const f of found) if (!sites.has(f.key)) sites.set(f.key, this.finish(ctx, f, sid, oi, parent, edgeOf, op));
          });
        }
        // Function values in designated initializers (`.handler = f`) whose field this function or a callee calls.
        const syn = nodes[id].syntax;
        if (syn && syn.type === 'declaration' && syn.text.includes('.')) {
          for (const fname of initializerFunctions(syn, ctx, (callee) => this.fieldsCalledBelow(ctx, callee))) {
            for (const def of this.host.defs(fname, ref.file).slice(0, 4)) {
              if (depth >= this.maxDepth) break;
              const found = firstOf(this.sleeps(def, new Map(), s, depth + 1)).map((x) => ({ ...x, path: x.path.map((e) => ({ ...e, via: e.via ?? fname })) }));
              const pseudo: CallOp = { k: 'call', name: fname, node: syn, args: [], isCondAtom: false };
              for (const f of found) if (!sites.has(f.key)) sites.set(f.key, this.finish(ctx, f, sid, ops.length, parent, edgeOf, pseudo));
            }
          }
        }
      }
      for (const e of nodes[id].succ) {
        const ns = nextStatus(ctx, nodes[id], e.kind, s);
        if (ns < 0 || ns === 1) continue; // nothing can be reported once the flag is known true
        const nid = e.to * 3 + ns;
        if (parent[nid] !== -2) continue;
        parent[nid] = sid;
        edgeOf[nid] = e.kind;
        queue.push(nid);
      }
    }
    return { sites: [...sites.values()], visited };
  }

  /** Fields called by the functions this one calls (one level down), and by itself. */
  private fieldsCalledBelow(ctx: Ctx, callee: string | undefined): Set<string> {
    const out = new Set(ctx.g.calledFields);
    if (callee) for (const d of this.host.defs(callee, ctx.ref.file).slice(0, 4)) for (const f of this.host.graph(d).calledFields) out.add(f);
    return out;
  }

  /** A call at status s: a sleep, or a callee (and function values it is given) whose sleeps are reachable. */
  private call(ctx: Ctx, op: CallOp, s: Status, depth: number, emit: (found: Array<SleepSite & { callee?: string }>) => void): void {
    const label = sleepingCall(op.name, op.args.map((a) => a.text));
    if (label) {
      const lockArg = op.args[0] && /lock|down|mmap_/.test(op.name) ? normExpr(op.args[0].text) : undefined;
      emit([siteAt(ctx, op, label, lockArg)]);
      return;
    }
    if (depth >= this.maxDepth || DRIVER_LOCK.test(op.name) || DRIVER_UNLOCK.test(op.name) || DRIVER_TRYLOCK.test(op.name)) return;
    // A parameter bound to a function at the call site of this function: the call reaches that function.
    const bound = ctx.facts.get(op.name);
    const target = bound?.startsWith('fn:') ? bound.slice(3) : op.name;
    const defs = this.host.defs(target, ctx.ref.file).slice(0, 6);
    for (const def of defs) {
      const g = this.host.graph(def);
      const facts = new Map<string, Fact>();
      const atSite: string[] = [];
      g.params.forEach((p, i) => {
        const a = op.args[i];
        if (!p || !a) return;
        const fname = functionValue(a, ctx);
        if (fname && calledParam(g, p)) facts.set(p, `fn:${fname}`);
        else if (fname && g.calledFields.has(p)) atSite.push(fname); // called as (*p)(...): not bound, taken as called here
        else {
          const f = argFact(ctx, a);
          if (f) facts.set(p, f);
        }
      });
      const found = this.sleeps(def, facts, s, depth + 1);
      // Core kernel code (mm/, kernel/, lib/) reached from a driver: the driver's call of the API is the sleep.
      if (found.length && isCore(def.file) && !isCore(ctx.ref.file)) {
        const inner = found[0];
        emit([siteAt(ctx, op, target, undefined, `${target}() may sleep (${inner.label} in ${inner.fn}())`)]);
      } else {
        emit(firstOf(found).map((x) => ({ ...x, callee: target, path: [callEvent(ctx.ref.file, op, target === op.name ? undefined : target), ...x.path.map((e) => ({ ...e, via: e.via ?? target }))] })));
      }
      for (const fname of atSite) {
        for (const fdef of this.host.defs(fname, ctx.ref.file).slice(0, 4)) {
          emit(firstOf(this.sleeps(fdef, new Map(), s, depth + 1)).map((x) => ({ ...x, callee: fname, path: [callEvent(ctx.ref.file, op, fname), ...x.path.map((e) => ({ ...e, via: e.via ?? fname }))] })));
        }
      }
    }
  }

  /** A site found at op (state sid, op index oi) of this function: its full path from this function's entry. */
  private finish(ctx: Ctx, f: SleepSite, sid: number, oi: number, parent: Int32Array, edgeOf: string[], op: CallOp): SleepSite {
    const chain: Array<{ id: number; edge?: string }> = [];
    for (let cur = sid; cur >= 0; cur = parent[cur]) chain.push({ id: (cur / 3) | 0, edge: edgeOf[cur] });
    chain.reverse();
    const nodes = ctx.g.cfg.nodes;
    const file = ctx.ref.file;
    const events: PathEvent[] = [{ event: 'entry', file, line: ctx.ref.fn.line, column: 1, detail: ctx.ref.fn.name }];
    const held: Node[] = [];
    const conds: Node[] = [];
    for (let i = 0; i < chain.length; i++) {
      const n = nodes[chain[i].id];
      const ops = ctx.g.ops[chain[i].id];
      const last = i === chain.length - 1;
      for (let k = 0; k < (last ? oi : ops.length); k++) {
        const o = ops[k];
        if (o.k !== 'call') continue;
        const isLock = DRIVER_LOCK.test(o.name) || (DRIVER_TRYLOCK.test(o.name) && o.isCondAtom);
        if (!isLock && !DRIVER_UNLOCK.test(o.name)) continue;
        const lock = o.args[0] ? normExpr(o.args[0].text) : o.name;
        const p = o.node.startPosition;
        events.push({ event: isLock ? 'lock' : 'unlock', file, line: p.row + 1, column: p.column + 1, lock, detail: o.name });
        if (isLock) held.push(o.node);
        else {
          const j = held.map((h) => normExpr(namedChildren(h.childForFieldName('arguments')!)[0]?.text ?? '')).lastIndexOf(lock);
          if (j >= 0) held.splice(j, 1);
        }
      }
      const next = chain[i + 1];
      if (n.kind === 'cond' && n.syntax && next && (next.edge === 'true' || next.edge === 'false')) {
        const p = n.syntax.startPosition;
        events.push({ event: 'branch', file, line: p.row + 1, column: p.column + 1, detail: `${n.label} -> ${next.edge}` });
        conds.push(n.syntax);
      }
    }
    const tail = f.path.length ? f.path : [sleepEvent(f)];
    let path = events.concat(tail);
    if (path.length > MAX_PATH) path = [path[0], ...path.slice(path.length - MAX_PATH + 1)];
    return { ...f, path, step: op.node, held, conds };
  }
}

/**
 * Through one call, the first sleep the callee reaches is the finding; the others it reaches (consequences of the
 * same missing test) ride along as related information. A function's own sleeping calls are each reported.
 */
function firstOf(found: SleepSite[]): SleepSite[] {
  if (found.length <= 1) return found;
  const [first, ...rest] = found;
  const also = [...(first.also ?? []), ...rest.flatMap((r) => [{ file: r.file, line: r.node.startPosition.row + 1, column: r.node.startPosition.column + 1, label: r.label }, ...(r.also ?? [])])];
  return [{ ...first, also: also.slice(0, 12) }];
}

const CORE = /\/(?:mm|kernel|lib|block)\/[\w.-]+\.[ch]$/;
function isCore(file: string): boolean {
  return CORE.test(file);
}

function siteAt(ctx: Ctx, op: CallOp, label: string, lock?: string, detail?: string): SleepSite {
  const at = op.node.startPosition;
  const site: SleepSite = { key: `${ctx.ref.file}:${at.row + 1}:${at.column + 1}`, file: ctx.ref.file, fn: ctx.ref.fn.name, node: op.node, label, lock, path: [], step: op.node, held: [], conds: [] };
  if (detail) site.path = [{ ...sleepEvent(site), detail }];
  return site;
}

function callEvent(file: string, op: CallOp, target?: string): PathEvent {
  const p = op.node.startPosition;
  return { event: 'call', file, line: p.row + 1, column: p.column + 1, callee: target ?? op.name, detail: target ? `${op.name}() calls ${target}() (passed as an argument)` : `calls ${op.name}()` };
}

function sleepEvent(f: SleepSite): PathEvent {
  const p = f.node.startPosition;
  return { event: 'sleep', file: f.file, line: p.row + 1, column: p.column + 1, callee: f.label, lock: f.lock, maySleep: true, detail: `${f.label} may sleep` };
}

/** Does the function call its parameter p (`p(...)` or `(*p)(...)`)? */
function calledParam(g: Graph, p: string): boolean {
  for (const ops of g.ops) for (const o of ops) if (o.k === 'call' && o.name === p) return true;
  return g.calledFields.has(p);
}

/** The function an argument names (`f`, `&f`), when it is not a local, a parameter or a macro constant. */
function functionValue(a: Node, ctx: Ctx): string | undefined {
  let u = unwrap(a);
  if (u.type === 'pointer_expression' && u.text.startsWith('&')) u = u.childForFieldName('argument') ?? u;
  if (u.type === 'cast_expression') u = u.childForFieldName('value') ?? u;
  if (u.type !== 'identifier') return undefined;
  const n = u.text;
  if (ctx.g.locals.has(n) || /^[A-Z0-9_]+$/.test(n)) return undefined;
  return n;
}

/** Function names assigned to fields in a declaration's initializer, kept when a field is called below. */
function initializerFunctions(decl: Node, ctx: Ctx, fieldsFor: (callee: string | undefined) => Set<string>): string[] {
  const out: string[] = [];
  let fields: Set<string> | undefined;
  const visit = (n: Node, depth: number): void => {
    if (depth > 40) return;
    if (n.type === 'initializer_pair') {
      const des = namedChildren(n).find((c) => c.type === 'field_designator');
      const val = n.childForFieldName('value');
      const field = des ? des.text.replace(/^\./, '').trim() : '';
      const fname = val ? functionValue(val, ctx) : undefined;
      if (field && fname) {
        fields ??= collectFields(ctx, fieldsFor);
        if (fields.has(field)) out.push(fname);
      }
    }
    for (const c of n.children) visit(c, depth + 1);
  };
  visit(decl, 0);
  return out;
}

function collectFields(ctx: Ctx, fieldsFor: (callee: string | undefined) => Set<string>): Set<string> {
  const out = new Set(ctx.g.calledFields);
  const names = new Set<string>();
  for (const ops of ctx.g.ops) for (const o of ops) if (o.k === 'call') names.add(o.name);
  for (const n of names) for (const f of fieldsFor(n)) out.add(f);
  return out;
}

/** What an argument says of the blockable flag: it carries it, or it is a constant. */
function argFact(ctx: Ctx, a: Node): Fact | undefined {
  if (isCarrier(ctx, a)) return 'carrier';
  const t = unwrap(a).text;
  if (t === 'false' || t === '0') return 'false';
  if (t === 'true' || t === '1') return 'true';
  const f = ctx.facts.get(t);
  return f === 'true' || f === 'false' ? f : undefined;
}

/** Does the expression evaluate to the blockable flag (truthy when the range is blockable)? */
function isCarrier(ctx: Ctx, n: Node): boolean {
  let u = unwrap(n);
  // &flag, *(bool *)data: a pointer to the flag, and the flag read through it, carry it.
  for (let i = 0; i < 4; i++) {
    if (u.type === 'pointer_expression') u = unwrap(u.childForFieldName('argument') ?? u);
    else if (u.type === 'cast_expression') u = unwrap(u.childForFieldName('value') ?? u);
    else break;
  }
  if (u.text.includes('MMU_NOTIFIER_RANGE_BLOCKABLE') && !/[=!]=|[<>]/.test(u.text.replace(/->/g, '.'))) return true;
  if (u.type === 'call_expression' && calleeName(u) === 'mmu_notifier_range_blockable') return true;
  if (u.type === 'field_expression') {
    const f = u.childForFieldName('field')?.text ?? '';
    return BLOCK_NAMES.has(f);
  }
  if (u.type === 'identifier') {
    const v = ctx.facts.get(u.text);
    if (v) return v === 'carrier';
    return ctx.carriers.has(u.text) || (BLOCK_NAMES.has(u.text) && ctx.g.params.includes(u.text));
  }
  return false;
}

/** Locals assigned a carrier of the flag (flow-insensitive: `bool may_block = range->flags & ...BLOCKABLE;`). */
function localCarriers(g: Graph, facts: Map<string, Fact>): Set<string> {
  const out = new Set<string>();
  const ctx: Ctx = { ref: undefined as unknown as FnRef, g, facts, carriers: out };
  for (let round = 0; round < 2; round++) {
    for (const ops of g.ops) {
      for (const o of ops) {
        if (o.k === 'assign' && o.rhs && /^[A-Za-z_]\w*$/.test(o.target) && !facts.has(o.target) && isCarrier(ctx, o.rhs)) out.add(o.target);
      }
    }
  }
  return out;
}

type CondValue = 'blk' | 'notblk' | 'notunmap-if-true' | 'notunmap-if-false' | 'const-true' | 'const-false';

const ZERO = new Set(['0', 'false', 'NULL']);
const ONE = new Set(['1', 'true']);

function condValue(ctx: Ctx, atom: Node): CondValue | undefined {
  const a = unwrap(atom);
  if (a.type === 'binary_expression') {
    const op = a.childForFieldName('operator')?.text;
    const l = a.childForFieldName('left');
    const r = a.childForFieldName('right');
    if (l && r && (op === '==' || op === '!=')) {
      for (const [x, y] of [[l, r], [r, l]] as const) {
        const yt = unwrap(y).text;
        if (isCarrier(ctx, x) && (ZERO.has(yt) || ONE.has(yt))) return (op === '==') === ONE.has(yt) ? 'blk' : 'notblk';
        if (/(?:->|\.)event$/.test(unwrap(x).text.replace(/\s+/g, '')) && /^MMU_NOTIFY_\w+$/.test(yt)) {
          const unmap = yt === 'MMU_NOTIFY_UNMAP';
          return (op === '==') === unmap ? 'notunmap-if-false' : 'notunmap-if-true';
        }
      }
      return undefined;
    }
  }
  if (isCarrier(ctx, a)) return 'blk';
  if (ctx.frozen) {
    if (a.type === 'call_expression' && calleeName(a) === 'list_empty') {
      const arg = namedChildren(a.childForFieldName('arguments')!)[0];
      const v = arg ? normExpr(arg.text) : '';
      if (ctx.frozen.get(v) === 'empty') return 'const-true';
    }
    if (a.type === 'identifier' && ctx.frozen.get(a.text) === 'zero') return 'const-false';
  }
  if (a.type === 'identifier') {
    const f = ctx.facts.get(a.text);
    if (f === 'true') return 'const-true';
    if (f === 'false') return 'const-false';
  }
  return undefined;
}

/** The status after taking edge `kind` out of node n at status s (-1: the edge cannot be taken). */
function nextStatus(ctx: Ctx, n: CfgNode, kind: string, s: Status): number {
  if (n.kind !== 'cond' || !n.syntax || n.preproc || (kind !== 'true' && kind !== 'false')) return s;
  const v = condValue(ctx, n.syntax);
  if (!v) return s;
  const truth = kind === 'true';
  switch (v) {
    case 'blk':
    case 'notblk': {
      const blockable = v === 'blk' ? truth : !truth;
      if (blockable) return s === 2 ? -1 : 1;
      return s === 1 ? -1 : 2;
    }
    case 'notunmap-if-true':
      return truth ? 1 : s;
    case 'notunmap-if-false':
      return truth ? s : 1;
    case 'const-true':
      return truth ? s : -1;
    case 'const-false':
      return truth ? -1 : s;
  }
  return s;
}

/**
 * Locals with a known initial value (LIST_HEAD(x), `T x = 0/false/NULL`) none of whose changes (assignments, `&x`
 * passed to a call) is at a node the first walk visited.
 */
function frozenLocals(g: Graph, visited: Uint8Array): Map<string, 'empty' | 'zero'> {
  const init = new Map<string, { val: 'empty' | 'zero'; node: number }>();
  const bad = new Set<string>();
  g.ops.forEach((ops, id) => {
    for (const o of ops) {
      if (o.k === 'call' && o.name === 'LIST_HEAD' && o.args.length === 1 && /^\w+$/.test(o.args[0].text)) {
        if (init.has(o.args[0].text)) bad.add(o.args[0].text);
        init.set(o.args[0].text, { val: 'empty', node: id });
      } else if (o.k === 'assign' && o.op === '=' && o.rhs && /^(?:0|false|NULL)$/.test(o.rhs.text) && g.cfg.nodes[id].syntax?.type === 'declaration') {
        if (init.has(o.target)) bad.add(o.target);
        init.set(o.target, { val: 'zero', node: id });
      }
    }
  });
  if (!init.size) return new Map();
  const out = new Map<string, 'empty' | 'zero'>();
  for (const [name, { val, node }] of init) {
    if (bad.has(name)) continue;
    const re = new RegExp(`&\\s*${name}\\b`);
    let changedWhereVisited = false;
    g.ops.forEach((ops, id) => {
      if (id === node || !visited[id]) return;
      for (const o of ops) {
        if (o.k === 'assign' && (o.target === name || o.target.startsWith(`${name}.`))) changedWhereVisited = true;
        if (o.k === 'call' && o.args.some((a) => re.test(a.text))) changedWhereVisited = o.name !== 'list_empty' || changedWhereVisited;
      }
    });
    if (!changedWhereVisited) out.set(name, val);
  }
  // Only worth a second walk when a condition tests one of them.
  for (const name of [...out.keys()]) if (!g.cfg.nodes.some((n) => n.kind === 'cond' && n.syntax && new RegExp(`\\b${name}\\b`).test(n.syntax.text))) out.delete(name);
  return out;
}
