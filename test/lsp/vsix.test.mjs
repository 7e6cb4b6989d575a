// The .vsix: `npm run package` output holds the bundles and the grammar wasm, and no node_modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

test('vsce lists the bundles and the wasm, no node_modules', () => {
  const vsce = join(ROOT, 'node_modules/.bin/vsce');
  const out = execFileSync(vsce, ['ls', '--no-dependencies', '--readme-path', 'client/README.md'], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  const files = out.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const f of ['dist/extension.js', 'dist/server.js', 'dist/tree-sitter.wasm', 'dist/tree-sitter-c.wasm', 'package.json']) assert.ok(files.includes(f), `${f} in ${files}`);
  assert.ok(!files.some((f) => f.includes('node_modules')), files.join(', '));
  assert.ok(!files.some((f) => f.endsWith('.map') || f.startsWith('server/') || f.startsWith('test/')), files.join(', '));
});

test('a packaged .vsix (when built) has the same contents', { skip: !existsSync(join(ROOT, 'mmu-notifier-audit.vsix')) && 'run npm run package first' }, () => {
  const out = execFileSync('unzip', ['-l', join(ROOT, 'mmu-notifier-audit.vsix')], { encoding: 'utf8' });
  assert.match(out, /extension\/dist\/tree-sitter-c\.wasm/);
  assert.match(out, /extension\/dist\/server\.js/);
  assert.doesNotMatch(out, /node_modules/);
});
