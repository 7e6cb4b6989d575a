// A cursor walk that runs inside wasm: a tiny hand-assembled module imports the runtime's own cursor functions and
// memory, walks a subtree and writes one record per node (type, start, end, field, parent). Copying a function out
// of tree-sitter then costs one call from JS instead of five per node.

/** The web-tree-sitter module object (emscripten's Module): the options object handed to Parser.init. */
export interface TsModule {
  wasmMemory: WebAssembly.Memory;
  _malloc(n: number): number;
  _free(p: number): void;
  _ts_tree_cursor_goto_first_child_wasm(tree: number): number;
  _ts_tree_cursor_goto_next_sibling_wasm(tree: number): number;
  _ts_tree_cursor_goto_parent_wasm(tree: number): number;
  _ts_tree_cursor_current_node_type_id_wasm(tree: number): number;
  _ts_tree_cursor_start_index_wasm(tree: number): number;
  _ts_tree_cursor_end_index_wasm(tree: number): number;
  _ts_tree_cursor_current_field_id_wasm(tree: number): number;
  _ts_tree_cursor_delete_wasm(tree: number): void;
}

/** Bytes per record: type id, start offset, end offset, field id, parent record index (-1 for the root). */
export const RECORD_INTS = 5;

const u32 = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const i32 = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const str = (s: string): number[] => [...u32(s.length), ...Buffer.from(s, 'utf8')];
const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...u32(body.length), ...body];

const I32 = 0x7f;
const IMPORTS = ['first_child', 'next_sibling', 'parent', 'type_id', 'start', 'end', 'field'] as const;
const [FIRST_CHILD, NEXT_SIBLING, PARENT, TYPE_ID, START, END, FIELD] = [0, 1, 2, 3, 4, 5, 6];
// Parameters and locals of walk(tree, out, cap).
const TREE = 0;
const OUT = 1;
const CAP = 2;
const N = 3;
const CUR = 4;
const PAR = 5;
const REC = 6;

const get = (l: number): number[] => [0x20, l];
const set = (l: number): number[] => [0x21, l];
const call = (f: number): number[] => [0x10, f];
const store = (offset: number): number[] => [0x36, 2, ...u32(offset)]; // i32.store align=4
const load = (offset: number): number[] => [0x28, 2, ...u32(offset)];
const constI = (v: number): number[] => [0x41, ...i32(v)];

/** rec = out + n * 20; five stores; cur = n; n += 1. */
const emit = (): number[] => [
  ...get(OUT), ...get(N), ...constI(RECORD_INTS * 4), 0x6c /* i32.mul */, 0x6a /* i32.add */, ...set(REC),
  ...get(REC), ...get(TREE), ...call(TYPE_ID), ...store(0),
  ...get(REC), ...get(TREE), ...call(START), ...store(4),
  ...get(REC), ...get(TREE), ...call(END), ...store(8),
  ...get(REC), ...get(TREE), ...call(FIELD), ...store(12),
  ...get(REC), ...get(PAR), ...store(16),
  ...get(N), ...set(CUR),
  ...get(N), ...constI(1), 0x6a, ...set(N),
];

function moduleBytes(): Uint8Array {
  const types = section(1, vec([
    [0x60, ...vec([[I32]]), ...vec([[I32]])], // (i32) -> i32: the runtime's cursor functions
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])], // walk(tree, out, cap) -> count
  ]));
  const imports = section(2, vec([
    ...IMPORTS.map((name) => [...str('ts'), ...str(name), 0x00, ...u32(0)]),
    [...str('env'), ...str('memory'), 0x02, 0x00, ...u32(1)],
  ]));
  const funcs = section(3, vec([u32(1)]));
  const exports = section(7, vec([[...str('walk'), 0x00, ...u32(IMPORTS.length)]]));
  const body = [
    ...vec([[...u32(4), I32]]), // locals n, cur, parent, rec
    ...constI(-1), ...set(PAR),
    ...emit(), // the root
    0x02, 0x40, // block $done
    0x03, 0x40, // loop $outer
    ...get(N), ...get(CAP), 0x4f /* i32.ge_u */, 0x0d, 1, // br_if $done
    ...get(TREE), ...call(FIRST_CHILD),
    0x04, 0x40, // if
    ...get(CUR), ...set(PAR), ...emit(), 0x0c, 1, // br $outer
    0x0b, // end if
    0x03, 0x40, // loop $climb
    ...get(TREE), ...call(NEXT_SIBLING),
    0x04, 0x40, ...emit(), 0x0c, 2, 0x0b, // if: emit the sibling, br $outer
    ...get(CUR), 0x45 /* i32.eqz */, 0x0d, 2, // at the walk's root: br_if $done
    ...get(TREE), ...call(PARENT), 0x45, 0x0d, 2, // no parent: br_if $done
    ...get(PAR), ...set(CUR),
    ...get(OUT), ...get(CUR), ...constI(RECORD_INTS * 4), 0x6c, 0x6a, ...load(16), ...set(PAR),
    0x0c, 0, // br $climb
    0x0b, // end loop $climb
    0x0b, // end loop $outer
    0x0b, // end block $done
    ...get(N),
    0x0b, // end function
  ];
  const code = section(10, vec([[...u32(body.length), ...body]]));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
}

export type Walk = (tree: number, out: number, cap: number) => number;

let cached: { m: TsModule; walk: Walk } | undefined;

/** The in-wasm walk bound to the runtime `m`, or undefined when `m` lacks what it needs (then copy in JS). */
export function wasmWalker(m: TsModule | undefined): Walk | undefined {
  if (!m) return undefined;
  if (cached?.m === m) return cached.walk;
  try {
    if (!(m.wasmMemory instanceof WebAssembly.Memory)) return undefined;
    const ts = {
      first_child: m._ts_tree_cursor_goto_first_child_wasm,
      next_sibling: m._ts_tree_cursor_goto_next_sibling_wasm,
      parent: m._ts_tree_cursor_goto_parent_wasm,
      type_id: m._ts_tree_cursor_current_node_type_id_wasm,
      start: m._ts_tree_cursor_start_index_wasm,
      end: m._ts_tree_cursor_end_index_wasm,
      field: m._ts_tree_cursor_current_field_id_wasm,
    };
    if (Object.values(ts).some((f) => typeof f !== 'function') || typeof m._ts_tree_cursor_delete_wasm !== 'function') return undefined;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { ts, env: { memory: m.wasmMemory } });
    const walk = inst.exports.walk as Walk;
    cached = { m, walk };
    return walk;
  } catch {
    return undefined;
  }
}
