// The subscriber pass never throws and never loops on odd input: recursion through callbacks, a call chain deeper than
// the walk follows, an initializer that never closes, a callback that is not defined, ops assigned from a macro, and
// a long chain of helpers each calling the next through a function-pointer argument. Each gives findings or nothing,
// and what it could not check is listed, never an exception. (Ops built by a macro are not seen: a limit.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engine, getParser } from '../helpers.mjs';

const CASES = {
  recursion: `
static int a(struct mmu_notifier *mn, const struct mmu_notifier_range *range);
static int b(struct mmu_notifier *mn, const struct mmu_notifier_range *range) { return a(mn, range); }
static int a(struct mmu_notifier *mn, const struct mmu_notifier_range *range) { if (range->start) return b(mn, range); mutex_lock(&l); return 0; }
static const struct mmu_notifier_ops o = { .invalidate_range_start = a };`,
  deep: Array.from({ length: 30 }, (_, i) => `static void h${i}(void) { ${i === 29 ? 'msleep(1);' : `h${i + 1}();`} }`).join('\n') + `
static int cb(struct mmu_notifier *mn, const struct mmu_notifier_range *range) { h0(); return 0; }
static const struct mmu_notifier_ops o = { .invalidate_range_start = cb };`,
  unclosed: `static const struct mmu_notifier_ops o = { .invalidate_range_start = cb, .change_pte = `,
  undefined: `static const struct mmu_notifier_ops o = { .invalidate_range_start = nowhere };`,
  macro: `#define OPS(x) { .invalidate_range_start = x }
static const struct mmu_notifier_ops o = OPS(cb);
static int cb(struct mmu_notifier *mn, const struct mmu_notifier_range *range) { mutex_lock(&l); return 0; }`,
  pointers: Array.from({ length: 20 }, (_, i) => `static void w${i}(void (*f)(void)) { ${i === 19 ? 'f();' : `w${i + 1}(f);`} }`).join('\n') + `
static void sleeper(void) { wait_for_completion(&c); }
static int cb(struct mmu_notifier *mn, const struct mmu_notifier_range *range) { w0(sleeper); return 0; }
static const struct mmu_notifier_ops o = { .invalidate_range_start = cb };`,
  garbage: `static const struct mmu_interval_notifier_ops o = { .invalidate = inv };
static bool inv(struct mmu_interval_notifier *mni, const struct mmu_notifier_range *range, unsigned long cur_seq) {
  for (;;) { switch (x) { case 1: goto a; default: mutex_lock(&m); } a: if (y) return true; else continue; }
}
int map(void) { unsigned long s = mmu_interval_read_begin(&n); if (mmu_interval_read_retry(&n, s)) ; ) ) ; return 0; }`,
};

for (const [name, text] of Object.entries(CASES)) {
  test(`subscriber pass on odd input: ${name}`, async () => {
    const parser = await getParser();
    const p = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: engine.parseVersion('6.1', 'test') });
    try {
      p.setFile(`/virtual/${name}.c`, text);
      const r = p.analyze();
      assert.ok(Array.isArray(r.findings));
      for (const f of r.findings) assert.ok(f.line >= 1 && f.path.length >= 1, JSON.stringify(f));
      if (name === 'recursion') assert.ok(r.findings.some((f) => f.rule === 'nonblocking-invalidate-sleeps'), `${name}: the sleep is found`);
      if (name === 'undefined') assert.match(r.incomplete.map((i) => i.reason).join('\n'), /not defined in the analysed files/);
    } finally {
      p.dispose();
    }
  });
}
