// The kernel pre-pass: length-preserving, and each known macro pattern parses into the right shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engine, getParser } from '../helpers.mjs';

const errorsOf = async (text) => {
  const parser = await getParser();
  const p = parser.parse(text);
  const has = p.tree.rootNode.hasError;
  const fns = engine.findFunctions(p.tree).map((f) => f.name);
  p.tree.delete();
  return { has, fns };
};

const CASES = {
  'loop macro with a block': 'void f(struct list_head *h)\n{\n\tstruct x *it;\n\tlist_for_each_entry(it, h, node) {\n\t\tuse(it);\n\t}\n}\n',
  'loop macro with one statement': 'void f(struct list_head *h)\n{\n\tstruct x *it;\n\thash_for_each_possible(tbl, it, node, key)\n\t\tuse(it);\n}\n',
  'annotations': 'static int __init __must_check f(void __user *p, int __rcu *q)\n{\n\treturn 0;\n}\n',
  'lock contracts': 'static void f(spinlock_t *ptl)\n\t__releases(ptl) __acquires(&mm->page_table_lock)\n{\n\tspin_unlock(ptl);\n}\n',
  'type-first macros': 'void f(unsigned long a, unsigned long b)\n{\n\tunsigned long c = min_t(unsigned long, a, b);\n\tstruct item *it = rb_entry(n, struct item, node);\n\tsize_t o = offsetof(struct item, node);\n}\n',
  'unbalanced #ifdef splitting a statement': 'void f(int a, int b)\n{\n#ifdef CONFIG_X\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t\tg();\n\t}\n}\n',
  '#if 0 block': 'void f(void)\n{\n#if 0\n\tthis is { not C\n#endif\n\tg();\n}\n',
  'printf attribute and section': 'static __printf(2, 3) __section(".x") void f(int l, const char *fmt, ...)\n{\n}\n',
};

for (const [name, text] of Object.entries(CASES)) {
  test(`pre-pass: ${name}`, async () => {
    const r = engine.prepass(text);
    assert.equal(r.text.length, text.length, 'length preserved');
    assert.deepEqual([...r.text.matchAll(/\n/g)].map((m) => m.index), [...text.matchAll(/\n/g)].map((m) => m.index), 'newlines preserved');
    const e = await errorsOf(text);
    assert.equal(e.has, false, `parses without errors:\n${r.text}`);
    assert.deepEqual(e.fns, ['f']);
  });
}

test('pre-pass records lock contracts with their lock expressions', () => {
  const r = engine.prepass(CASES['lock contracts']);
  assert.deepEqual(r.contracts.map((c) => [c.kind, c.lock]), [['releases', 'ptl'], ['acquires', '&mm->page_table_lock']]);
});

test('pre-pass leaves comments, strings and #define bodies alone', () => {
  const text = '#define list_for_each_foo(x) for (;;)\n/* list_for_each(a, b) { */\nchar *s = "__init min_t(int, 1, 2)";\n';
  assert.equal(engine.prepass(text).text, text);
});

test('a for_each helper declaration is not turned into a loop', () => {
  const text = 'int for_each_thing(int (*cb)(int));\nvoid f(void)\n{\n\tfor_each_thing(cb);\n}\n';
  assert.equal(engine.prepass(text).text, text);
});

test('UTF-16 columns: positions after non-ASCII text are in UTF-16 code units', async () => {
  const text = '/* é 😀 */ void f(struct mm_struct *mm, pmd_t *pmd)\n{\n\tspinlock_t *ptl; pte_t *p = pte_offset_map_lock(mm, pmd, 0, &ptl); /* ü */ mmu_notifier_invalidate_range_start(mm, 0, 1);\n\tpte_unmap_unlock(p, ptl);\n}\n';
  const parser = await getParser();
  const project = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: null });
  project.setFile('/x.c', text);
  const f = project.analyze().findings[0];
  const line = text.split('\n')[2];
  assert.equal(f.column, line.indexOf('mmu_notifier_invalidate_range_start') + 1);
  assert.ok(f.fix && text.slice(f.fix.startInsertOffset).startsWith('\tspinlock_t'), 'fix offsets index the JS string');
  project.dispose();
});
