// bin/notifier-audit.js loads dist/cli.js through a V8 code cache: one file per mode ("short" runs on explicit files
// under 1 MB, which also run without the optimising compiler; "long" runs otherwise), in dist/.cache or a private
// temp directory, written after audit runs only. The CLI is copied into a fresh directory (with its own TMPDIR), so
// these runs neither use nor disturb the repository's dist/.cache or the shared temp directory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync, mkdirSync, readdirSync, copyFileSync, readFileSync, writeFileSync, rmSync, existsSync, statSync, chmodSync, utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const work = mkdtempSync(join(tmpdir(), 'na-codecache-'));
for (const d of ['bin', 'dist']) {
  mkdirSync(join(work, d));
  for (const e of readdirSync(join(ROOT, d), { withFileTypes: true })) if (e.isFile()) copyFileSync(join(ROOT, d, e.name), join(work, d, e.name));
}
after(() => rmSync(work, { recursive: true, force: true }));

const BIN = join(work, 'bin/notifier-audit.js');
const CLI = join(work, 'dist/cli.js');
const CACHE = join(work, 'dist/.cache');
const TMP = join(work, 'tmp');
mkdirSync(TMP);
const PRIVATE_TMP = join(TMP, `notifier-audit-${process.getuid ? process.getuid() : -1}`);
const EXAMPLE = 'examples/bracket-in-caller.c';

const baseEnv = { ...process.env, TMPDIR: TMP, NOTIFIER_AUDIT_CACHE_DEBUG: '1' };
delete baseEnv.NOTIFIER_AUDIT_NO_CODE_CACHE;
delete baseEnv.NOTIFIER_AUDIT_OPT;

/** Runs the copied CLI from the repository root; `cache` is "<mode> <none|used|rejected>" from the debug line. */
function run(args, env = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60000, env: { ...baseEnv, ...env } });
  const lines = [...r.stderr.matchAll(/^code cache \((short|long) run\): (\w+)$/gm)];
  assert.ok(lines.length <= 1, r.stderr);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, cache: lines.length ? `${lines[0][1]} ${lines[0][2]}` : null };
}

const cacheFiles = (dir = CACHE) => (existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).filter((f) => f.endsWith('.cache')).sort() : []);
const only = (mode, dir = CACHE) => {
  const f = cacheFiles(dir).filter((n) => n.includes(`-${mode}-`));
  assert.equal(f.length, 1, `one ${mode} cache in ${dir}: ${cacheFiles(dir)}`);
  return join(dir, f[0]);
};
const reset = () => {
  rmSync(CACHE, { recursive: true, force: true });
  rmSync(PRIVATE_TMP, { recursive: true, force: true });
};

/** The output of a run without the code cache (what every cached run must print). */
let referenceRun;
const ref = () => (referenceRun ??= run([EXAMPLE], { NOTIFIER_AUDIT_NO_CODE_CACHE: '1' }));

test('a short run (one small file): no cache, then the cache it wrote is used; same output', () => {
  reset();
  const first = run([EXAMPLE]);
  assert.equal(first.cache, 'short none', first.stderr);
  assert.equal(first.status, 1, 'the example has a finding');
  assert.match(first.stdout, /bracket-in-caller\.c:38:2: error: .*\[unbracketed-change-pte\] in fill_one_page\(\)/);
  assert.match(first.stdout, /1 finding in 1 file/);
  const file = only('short');
  assert.deepEqual(cacheFiles(), [file.slice(CACHE.length + 1)], 'only the short cache');
  assert.match(file, new RegExp(`cli-${process.versions.v8.replace(/\./g, '\\.')}-short-${statSync(CLI).size}-\\d+\\.cache$`));
  assert.ok(statSync(file).size > 10000);
  assert.ok(!existsSync(PRIVATE_TMP), 'nothing in the temp directory when dist/.cache is writable');
  const bytes = readFileSync(file);
  const second = run([EXAMPLE]);
  assert.equal(second.cache, 'short used', second.stderr);
  assert.equal(second.status, first.status);
  assert.equal(second.stdout, first.stdout);
  assert.deepEqual(readFileSync(file), bytes, 'a used cache is not rewritten');
  assert.equal(first.stdout, ref().stdout);
  assert.equal(first.status, ref().status);
});

test('explicit files with options are still a short run; a directory or 1 MB of files is a long run with its own cache', () => {
  const withOptions = run(['--format', 'json', '--kernel-version', '5.10', EXAMPLE]);
  assert.equal(withOptions.cache, 'short used', withOptions.stderr);
  assert.equal(JSON.parse(withOptions.stdout).findings.length, 1);

  const dir1 = run(['examples/']);
  assert.equal(dir1.cache, 'long none', dir1.stderr);
  assert.equal(dir1.status, 1);
  assert.match(dir1.stdout, /wp-page-unbracketed\.c:\d+:\d+: error: /);
  only('long');
  assert.equal(cacheFiles().length, 2, `one cache per mode: ${cacheFiles()}`);
  const dir2 = run(['examples/']);
  assert.equal(dir2.cache, 'long used', dir2.stderr);
  assert.equal(dir2.stdout, dir1.stdout);
  assert.equal(dir2.status, dir1.status);

  // One explicit file of 1 MB (a comment: the pre-filter drops it) is a long run too.
  const big = join(work, 'big.c');
  writeFileSync(big, `/*\n${'x'.repeat(1 << 20)}\n*/\nint f(void) { return 0; }\n`);
  const large = run([big]);
  assert.equal(large.cache, 'long used', large.stderr);
  assert.equal(large.status, 0, large.stdout + large.stderr);
  // The short cache is still there and still valid after the long runs.
  const again = run([EXAMPLE]);
  assert.equal(again.cache, 'short used');
  assert.equal(again.stdout, ref().stdout);
});

test('a garbage or empty cache is rejected, the output does not change, and the cache is rewritten', () => {
  const file = only('short');
  for (const bad of [Buffer.from('garbage, not a V8 code cache\n'), Buffer.alloc(0)]) {
    writeFileSync(file, bad);
    const r = run([EXAMPLE]);
    assert.equal(r.cache, 'short rejected', r.stderr);
    assert.equal(r.status, ref().status);
    assert.equal(r.stdout, ref().stdout);
    assert.notDeepEqual(readFileSync(file), bad, 'rewritten after the run');
    const next = run([EXAMPLE]);
    assert.equal(next.cache, 'short used', next.stderr);
    assert.equal(next.stdout, ref().stdout);
  }
});

test('--version, --help and rules write no cache', () => {
  reset();
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^notifier-audit \d+\.\d+\.\d+/);
  assert.equal(run(['--help']).status, 0);
  assert.equal(run(['rules']).status, 0);
  assert.deepEqual(cacheFiles(), []);
  assert.deepEqual(cacheFiles(PRIVATE_TMP), []);
  // Control: an audit right after does write one.
  assert.equal(run([EXAMPLE]).cache, 'short none');
  assert.equal(cacheFiles().length, 1);
});

test('NOTIFIER_AUDIT_NO_CODE_CACHE=1: nothing about the cache, same output, no cache written', () => {
  reset();
  const cached = run([EXAMPLE]);
  assert.equal(cached.cache, 'short none');
  reset();
  const r = run([EXAMPLE], { NOTIFIER_AUDIT_NO_CODE_CACHE: '1' });
  assert.equal(r.cache, null);
  assert.doesNotMatch(r.stderr, /code cache/);
  assert.equal(r.status, cached.status);
  assert.equal(r.stdout, cached.stdout);
  assert.deepEqual(cacheFiles(), []);
  assert.deepEqual(cacheFiles(PRIVATE_TMP), []);
  // An existing cache is not read either (a garbage one would otherwise be reported as rejected).
  mkdirSync(CACHE, { recursive: true });
  run([EXAMPLE]);
  writeFileSync(only('short'), 'garbage');
  const r2 = run([EXAMPLE], { NOTIFIER_AUDIT_NO_CODE_CACHE: '1' });
  assert.equal(r2.cache, null);
  assert.equal(r2.stdout, ref().stdout);
  assert.equal(readFileSync(only('short'), 'utf8'), 'garbage');
});

test('a rebuilt bundle never meets an old cache, and old caches are removed', () => {
  reset();
  run([EXAMPLE]);
  run(['examples/']);
  const old = cacheFiles();
  assert.equal(old.length, 2);
  const t = new Date(Date.now() + 3600_000);
  utimesSync(CLI, t, t);
  const r = run([EXAMPLE]);
  assert.equal(r.cache, 'short none', r.stderr);
  assert.equal(r.stdout, ref().stdout);
  const now = cacheFiles();
  assert.equal(now.length, 1, String(now));
  assert.ok(!old.includes(now[0]));
  assert.ok(now[0].endsWith(`-${statSync(CLI).size}-${Math.floor(statSync(CLI).mtimeMs)}.cache`), now[0]);
  assert.equal(run([EXAMPLE]).cache, 'short used');
});

test('the private temp directory is the fallback, used only when no one else can write it', () => {
  reset();
  writeFileSync(CACHE, 'a file where the cache directory would be');
  try {
    const first = run([EXAMPLE]);
    assert.equal(first.cache, 'short none', first.stderr);
    assert.equal(first.stdout, ref().stdout);
    const file = only('short', PRIVATE_TMP);
    assert.equal(statSync(PRIVATE_TMP).mode & 0o777, 0o700);
    assert.equal(run([EXAMPLE]).cache, 'short used');
    // Group- or world-writable: neither read nor written.
    chmodSync(PRIVATE_TMP, 0o777);
    writeFileSync(file, 'garbage');
    const open = run([EXAMPLE]);
    assert.equal(open.cache, 'short none', open.stderr);
    assert.equal(open.stdout, ref().stdout);
    assert.equal(readFileSync(file, 'utf8'), 'garbage', 'not rewritten');
    // Control: the same file in a private directory is read (and rejected).
    chmodSync(PRIVATE_TMP, 0o700);
    assert.equal(run([EXAMPLE]).cache, 'short rejected');
    assert.equal(run([EXAMPLE]).cache, 'short used');
  } finally {
    rmSync(CACHE, { force: true });
    if (existsSync(PRIVATE_TMP)) chmodSync(PRIVATE_TMP, 0o700);
  }
});

test('a cache whose payload is corrupted does not crash the run', () => {
  reset();
  run([EXAMPLE]);
  const file = only('short');
  const b = readFileSync(file);
  for (let i = 200; i < b.length; i += 997) b[i] ^= 0x5a; // header intact, payload damaged
  writeFileSync(file, b);
  // No core file from the crash.
  const r = spawnSync('/bin/sh', ['-c', 'ulimit -c 0; exec "$0" "$@"', process.execPath, BIN, EXAMPLE], { cwd: ROOT, encoding: 'utf8', timeout: 60000, env: baseEnv });
  assert.equal(r.stdout, ref().stdout, `status ${r.status} signal ${r.signal}: ${r.stderr.split('\n').slice(0, 6).join('\n')}`);
  assert.equal(r.status, ref().status);
});
