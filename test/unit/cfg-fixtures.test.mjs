// CFG fixtures: one file per construct; the expected graph is printed inside the file in a `/* CFG ... */` block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { ROOT, engine, listFiles, getParser } from '../helpers.mjs';

const dir = join(ROOT, 'test/fixtures/cfg');

function graphOf(parser, text) {
  const parsed = parser.parse(text);
  const model = new engine.KernelModel(null);
  const out = [];
  for (const fn of engine.findFunctions(parsed.tree)) {
    const cfg = new engine.CfgBuilder((n) => model.isNoreturn(n)).build(fn.name, fn.body);
    out.push(engine.printCfg(cfg));
  }
  const errors = parsed.tree.rootNode.hasError;
  parsed.tree.delete();
  return { graph: out.join('\n'), errors };
}

for (const file of listFiles(dir)) {
  test(`cfg ${basename(file)}`, async () => {
    const parser = await getParser();
    const text = readFileSync(file, 'utf8');
    const m = /\/\* CFG\n([\s\S]*?)\n\*\/\n?$/.exec(text);
    const body = m ? text.slice(0, m.index) : text;
    const { graph, errors } = graphOf(parser, body);
    assert.equal(errors, false, 'the pre-passed fixture parses without errors');
    if (!m && process.env.UPDATE_CFG) {
      writeFileSync(file, `${body.replace(/\n*$/, '\n')}/* CFG\n${graph}\n*/\n`);
      return;
    }
    assert.ok(m, 'fixture has a CFG block (run with UPDATE_CFG=1 to write it, then review it)');
    assert.equal(graph, m[1]);
  });
}
