// Function subtrees are copied out of tree-sitter by a cursor walk inside wasm (parse/walker.ts), with a JS cursor
// walk as the fallback: both must give the same nodes, on every function of every fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine, getParser, listFiles } from '../helpers.mjs';

function describe(n) {
  const out = [];
  const visit = (x, depth) => {
    out.push(`${depth}|${x.type}|${x.isNamed}|${x.startIndex}|${x.endIndex}|${x.fieldName}|${x.startPosition.row}:${x.startPosition.column}|${x.endPosition.row}:${x.endPosition.column}|${x.parent ? x.parent.type : '-'}`);
    for (const c of x.children) visit(c, depth + 1);
  };
  visit(n, 0);
  return out;
}

test('the in-wasm cursor walk and the JS cursor walk copy the same nodes', async () => {
  const parser = await getParser();
  const files = [...listFiles(join(ROOT, 'test/fixtures/rules')), ...listFiles(join(ROOT, 'examples'))];
  let functions = 0;
  let nodes = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const a = parser.parse(text);
    const fast = engine.findFunctions(a.tree, a.pre.text).map((f) => describe(f.node));
    const saved = engine.useRuntime(undefined); // no runtime: the JS walk
    assert.ok(saved, 'the parser registers its runtime, so the in-wasm walk is the one in use');
    let slow;
    try {
      const b = parser.parse(text);
      slow = engine.findFunctions(b.tree, b.pre.text).map((f) => describe(f.node));
      b.tree.delete();
    } finally {
      engine.useRuntime(saved);
    }
    a.tree.delete();
    assert.deepEqual(fast, slow, file);
    functions += fast.length;
    nodes += fast.reduce((k, d) => k + d.length, 0);
  }
  assert.ok(functions > 50 && nodes > 5000, `${functions} functions, ${nodes} nodes compared`);
});
