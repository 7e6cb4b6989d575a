// Smoke test on Debian's linux-source-6.1 (mm/ and the whole tree): no crash, no incomplete function; lists what it finds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';
import { ensureKernelTree } from '../../scripts/kernel-tree.mjs';

const tree = ensureKernelTree('6.1');
const skip = tree.skip;
if (skip) console.log(`skipping the kernel smoke test: ${skip}`);

function audit(dir, extra = []) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/notifier-audit.js'), '--format', 'json', ...extra, dir], { encoding: 'utf8', timeout: 300000, maxBuffer: 256 << 20 });
  return { r, ms: Date.now() - t0 };
}

test('linux-source-6.1 mm/: no crash, nothing incomplete, findings listed', { skip }, () => {
  const { r, ms } = audit(join(tree.path, 'mm'));
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.match(j.kernelVersion, /^6\.1\.\d+ \(Makefile /);
  assert.ok(j.filesScanned > 100);
  assert.deepEqual(j.incomplete, []);
  assert.deepEqual(j.errors, []);
  console.log(`mm/: ${j.filesScanned} files in ${ms} ms, ${j.findings.length} findings, ${j.suppressed.length} suppressed`);
  for (const f of j.findings) console.log(`  ${f.file.replace(tree.path + '/', '')}:${f.line}: [${f.rule}] ${f.function}: ${f.message}`);
});

test('linux-source-6.1 whole tree: no crash, nothing incomplete', { skip, timeout: 300000 }, () => {
  const { r, ms } = audit(tree.path, ['--jobs', '2']);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(j.filesScanned > 40000);
  assert.deepEqual(j.incomplete, []);
  console.log(`whole tree: ${j.filesScanned} files in ${ms} ms, ${j.findings.length} findings, ${j.errors.length} files not analysed`);
  for (const f of j.findings) console.log(`  ${f.file.replace(tree.path + '/', '')}:${f.line}: [${f.rule}] ${f.function}: ${f.message}`);
  for (const e of j.errors) console.log(`  not analysed: ${e.file.replace(tree.path + '/', '')}: ${e.message}`);
});
