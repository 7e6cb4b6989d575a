// The quick-fix of nonblocking-invalidate-sleeps on every subscriber fixture: when one is offered, it is the test of the
// version's blockable spelling (or blockable-lock-else-trylock for the callback's own lock), the rewritten file parses,
// and the re-analysis no longer reports the sleep. Where a golden *.fixed.txt sits next to a fixture, fixing every
// finding in turn gives exactly that text (written from the fixes upstream drivers carry: amdgpu/radeon's
// "if (blockable) mutex_lock(); else if (!mutex_trylock()) return -EAGAIN;" and the early bail-out of 93065ac753e4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine, getParser } from '../helpers.mjs';

const require = createRequire(import.meta.url);
const srv = require(join(ROOT, 'dist/server.js'));
const dir = join(ROOT, 'test/fixtures/subscriber/nonblocking');
const RULE = 'nonblocking-invalidate-sleeps';

for (const name of readdirSync(dir).filter((n) => n.endsWith('.c'))) {
  const file = join(dir, name);
  test(`blockable quick-fix on ${name}`, async () => {
    const text = readFileSync(file, 'utf8');
    const version = engine.parseVersion(/kernel-version:\s*([\d.]+)/.exec(text)[1], 'fixture');
    const parser = await getParser();
    const p = new engine.Project(parser, { settings: engine.DEFAULT_SETTINGS, kernelVersion: version });
    let fixed = text;
    let applied = 0;
    try {
      for (let round = 0; round < 6; round++) {
        p.setFile(file, fixed);
        const left = p.analyze().findings.filter((f) => f.rule === RULE);
        const f = left.find((g) => srv.fixesFor(fixed, g, srv.rangeApiForVersion(version), (nt, h) => p.checkRewrite(file, h.function, h.rule, nt).ok)[0].title.startsWith('Suppress') === false);
        if (!f) {
          // Each finding left without a fix says why in the hover.
          for (const g of left) assert.match(srv.noFixAdvice(g), /No quick-fix/);
          break;
        }
        const before = left.length;
        const fix = srv.fixesFor(fixed, f, srv.rangeApiForVersion(version), (nt, h) => p.checkRewrite(file, h.function, h.rule, nt).ok)[0];
        const added = fix.edits.map((e) => e.newText).join('\n');
        assert.match(added, version.major === 4 ? /\bblockable\b/ : version.minor < 2 && version.major === 5 ? /->blockable\b/ : /mmu_notifier_range_blockable\(/);
        assert.match(added, /return (?:-EAGAIN|false);/);
        fixed = srv.applyEdits(fixed, fix.edits);
        applied++;
        p.setFile(file, fixed);
        const after = p.analyze().findings.filter((g) => g.rule === RULE);
        assert.ok(after.length < before, `the fix of ${f.line} removes a finding`);
        assert.equal(p.parsedFile(file).tree.rootNode.hasError, false, 'the fixed file parses');
      }
      const golden = file.replace(/\.c$/, '.fixed.txt');
      if (existsSync(golden)) {
        assert.ok(applied > 0);
        assert.equal(fixed, readFileSync(golden, 'utf8'));
      }
    } finally {
      p.dispose();
    }
  });
}
