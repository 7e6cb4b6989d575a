// Installable outside the checkout: `npm pack` gives a tarball (bundles and grammar wasm inside) that
// `npm install -g` turns into a working notifier-audit, offline (the package has no runtime dependency).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The environment without what `npm test` exports about this checkout (its prefix, package, lifecycle). */
function cleanEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (/^npm_(package_|lifecycle_|config_(prefix|global|location|local_prefix|global_prefix|ignore_scripts|offline|dry_run)$)/i.test(k)) delete env[k];
  return env;
}

test('npm pack + npm install -g --offline gives a working notifier-audit outside the checkout', () => {
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'runtime dependencies would need the network to install');
  for (const f of ['dist/cli.js', 'dist/worker.js', 'dist/tree-sitter.wasm', 'dist/tree-sitter-c.wasm']) {
    assert.ok(existsSync(join(ROOT, f)), `${f} is missing: run npm run build first (npm test does)`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'na-pack-'));
  try {
    // --ignore-scripts: dist/ is already built (npm test builds before the tests); a plain `npm pack` runs `prepare`,
    // which builds it, and would rewrite the checkout's dist/ under other running tests.
    const pack = spawnSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', timeout: 60000, env: cleanEnv() });
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout);
    const files = new Set(info.files.map((f) => f.path));
    for (const f of ['package.json', 'bin/notifier-audit.js', 'dist/cli.js', 'dist/worker.js', 'dist/simulate.js', 'dist/server.js', 'dist/tree-sitter.wasm', 'dist/tree-sitter-c.wasm']) {
      assert.ok(files.has(f), `${f} is in the tarball`);
    }
    for (const f of files) assert.doesNotMatch(f, /^(node_modules|test|\.test-artifacts|build)\/|\.map$|\.vsix$|(^|\/)\.cache\//, `${f} should not be packed`);
    assert.ok(info.size < 5 * 1024 * 1024, `tarball of ${info.size} bytes`);
    const tarball = join(tmp, info.filename);

    const prefix = join(tmp, 'prefix');
    const install = spawnSync(npm, ['install', '-g', '--prefix', prefix, '--offline', '--cache', join(tmp, 'cache'), '--no-audit', '--no-fund', tarball], {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 60000,
      env: cleanEnv(),
    });
    assert.equal(install.status, 0, install.stderr);
    const bin = join(prefix, process.platform === 'win32' ? 'notifier-audit.cmd' : 'bin/notifier-audit');
    assert.ok(existsSync(bin), `${bin} installed`);
    const installed = join(prefix, 'lib/node_modules', pkg.name);
    assert.ok(existsSync(join(installed, 'dist/tree-sitter-c.wasm')), 'the grammar wasm is installed');

    // Run from a directory outside the checkout, with no node_modules in reach.
    const run = (args) => spawnSync(bin, args, { cwd: tmp, encoding: 'utf8', timeout: 60000, env: cleanEnv() });
    const version = run(['--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, new RegExp(pkg.version.replace(/\./g, '\\.')));

    const fixture = join(ROOT, 'test/fixtures/rules/unbracketed-change-pte/wp-page-2012-before.c');
    const one = run([fixture]);
    assert.equal(one.status, 1, one.stderr);
    assert.match(one.stdout, /wp-page-2012-before\.c:21:3: error: .*\[unbracketed-change-pte\] in do_wp_page_copy\(\)/);
    assert.match(one.stdout, /^1 finding in 1 file/m);

    // The examples, as `npm run examples` runs them from the checkout: the same report.
    const examples = run([join(ROOT, 'examples')]);
    assert.equal(examples.status, 1, examples.stderr);
    const local = spawnSync(process.execPath, [join(ROOT, 'bin/notifier-audit.js'), join(ROOT, 'examples')], { cwd: tmp, encoding: 'utf8', timeout: 60000 });
    assert.equal(examples.stdout, local.stdout);
    assert.match(examples.stdout, /^[1-9]\d* findings? in \d+ files?/m);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
