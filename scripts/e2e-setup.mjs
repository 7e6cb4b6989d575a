// Idempotent installer of what the real-editor tests need: Debian packages (chromium, neovim, build tools) and code-server in .cache/code-server.
//
// Run directly (`node scripts/e2e-setup.mjs [--no-apt] [--force]`) or import `ensureE2eSetup()` from a test.
// Every pitfall handled here was seen on these machines (see /work/shared/design/real-editor-testing.md):
// root needs --unsafe-perm, node-pty's `npx node-gyp` needs npm_config_yes, @vscode/ripgrep would download
// rg from GitHub (we pre-fill its cache with Debian's rg), kerberos builds from source (libkrb5-dev).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE_DIR = join(ROOT, '.cache', 'code-server');
export const CODE_SERVER_DIR = join(CACHE_DIR, 'node_modules', 'code-server');
export const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'out', 'node', 'entry.js');
export const CHROMIUM = '/usr/bin/chromium';
export const DEBIAN_PACKAGES = ['chromium', 'ripgrep', 'libkrb5-dev', 'pkg-config', 'build-essential', 'python3', 'neovim'];
const MARKER = join(CACHE_DIR, `.installed-${CODE_SERVER_VERSION}`);

/** A failure of the setup whose message says what to do; `aptUnavailable` lets tests skip with that reason. */
export class E2eSetupError extends Error {
  constructor(message, { aptUnavailable = false } = {}) {
    super(message);
    this.name = 'E2eSetupError';
    this.aptUnavailable = aptUnavailable;
  }
}

const log = (m) => process.stderr.write(`[e2e-setup] ${m}\n`);
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const dpkgHas = (p) =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') === true;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw new E2eSetupError(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return r.status ?? 1;
}

function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new E2eSetupError(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || '').trim().slice(-2000)}`);
  return r.stdout;
}

/** Installs the missing Debian packages; throws E2eSetupError (aptUnavailable=true when there is no apt-get). */
export function ensureDebianPackages(pkgs = DEBIAN_PACKAGES) {
  const missing = pkgs.filter((p) => !dpkgHas(p));
  if (missing.length === 0) {
    log(`Debian packages present: ${pkgs.join(' ')}`);
    return;
  }
  if (!have('apt-get') || !have('dpkg-query')) {
    throw new E2eSetupError(`apt-get is not available on this machine: cannot install ${missing.join(' ')}`, { aptUnavailable: true });
  }
  const prefix = isRoot() ? [] : have('sudo') ? ['sudo', '-E'] : null;
  if (!prefix) throw new E2eSetupError(`not root and no sudo: cannot apt-get install ${missing.join(' ')}`, { aptUnavailable: true });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...a) => {
    const argv = [...prefix, 'apt-get', ...a];
    return run(argv[0], argv.slice(1), { env });
  };
  log(`installing Debian packages: ${missing.join(' ')} (Chromium takes about a minute)`);
  const t0 = Date.now();
  let status = apt('install', '-y', '--no-install-recommends', ...missing);
  if (status !== 0) {
    log('apt-get install failed; running apt-get update and retrying');
    apt('update');
    status = apt('install', '-y', '--no-install-recommends', ...missing);
  }
  if (status !== 0) throw new E2eSetupError(`apt-get install ${missing.join(' ')} failed (exit ${status})`);
  log(`Debian packages installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** True when code-server is completely installed (entry point, ripgrep binary, native modules, marker). */
export function codeServerInstalled() {
  return (
    existsSync(MARKER) &&
    existsSync(CODE_SERVER_ENTRY) &&
    existsSync(join(CODE_SERVER_DIR, 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg')) &&
    existsSync(join(CODE_SERVER_DIR, 'lib', 'vscode', 'node_modules', 'node-pty', 'build', 'Release'))
  );
}

/** The versions of @vscode/ripgrep that code-server's own lock files will install. */
function ripgrepPackageVersions(codeServerTgz, scratch) {
  const dir = join(scratch, 'cs');
  mkdirSync(dir, { recursive: true });
  const locks = ['package/lib/vscode/npm-shrinkwrap.json', 'package/lib/vscode/extensions/npm-shrinkwrap.json', 'package/npm-shrinkwrap.json'];
  // tar exits non-zero for members that are absent; the files that exist are still extracted.
  spawnSync('tar', ['xzf', codeServerTgz, '-C', dir, ...locks], { stdio: 'ignore' });
  const versions = new Set();
  for (const l of locks) {
    const f = join(dir, l);
    if (!existsSync(f)) continue;
    const lock = JSON.parse(readFileSync(f, 'utf8'));
    for (const [key, val] of Object.entries(lock.packages ?? {})) {
      if (key.endsWith('node_modules/@vscode/ripgrep') && val.version) versions.add(val.version);
    }
  }
  if (versions.size === 0) throw new E2eSetupError('could not find @vscode/ripgrep in code-server\'s npm-shrinkwrap.json files');
  return [...versions];
}

/**
 * Reads @vscode/ripgrep's own postinstall code to learn which asset it downloads and where it caches it,
 * then writes Debian's rg packed as that asset, so the postinstall never goes to GitHub.
 */
function prefillRipgrepCache(pkgVersion, tmpDir, scratch) {
  const dir = join(scratch, `rg-${pkgVersion}`);
  mkdirSync(dir, { recursive: true });
  const tgzName = capture('npm', ['pack', `@vscode/ripgrep@${pkgVersion}`, '--silent', '--pack-destination', dir], { cwd: dir }).trim().split('\n').pop();
  run('tar', ['xzf', join(dir, tgzName), '-C', dir]);
  const post = readFileSync(join(dir, 'package', 'lib', 'postinstall.js'), 'utf8');
  const download = readFileSync(join(dir, 'package', 'lib', 'download.js'), 'utf8');
  const version = /const VERSION = ['"]([^'"]+)['"]/.exec(post)?.[1];
  if (!version) throw new E2eSetupError(`@vscode/ripgrep@${pkgVersion}: no VERSION constant in lib/postinstall.js; the pre-fill needs updating`);
  if (!download.includes('vscode-ripgrep-cache-${packageVersion}') || !download.includes("['ripgrep', opts.version, opts.target].join('-')")) {
    throw new E2eSetupError(`@vscode/ripgrep@${pkgVersion}: lib/download.js names its cache differently than expected; the pre-fill needs updating`);
  }
  const target = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[arch()];
  if (!target) throw new E2eSetupError(`unsupported architecture ${arch()} for the ripgrep pre-fill`);
  const cacheDir = join(tmpDir, `vscode-ripgrep-cache-${pkgVersion}`);
  const asset = join(cacheDir, `ripgrep-${version}-${target}.tar.gz`);
  mkdirSync(cacheDir, { recursive: true });
  const rgSrc = capture('sh', ['-c', 'command -v rg']).trim();
  const pack = join(scratch, `rgpack-${pkgVersion}`);
  mkdirSync(pack, { recursive: true });
  copyFileSync(rgSrc, join(pack, 'rg'));
  chmodSync(join(pack, 'rg'), 0o755);
  run('tar', ['czf', asset, '-C', pack, 'rg']);
  log(`ripgrep cache pre-filled with Debian's ${rgSrc}: ${asset}`);
}

/** Installs code-server into .cache/code-server with its own npm install; no-op when already installed. */
export function ensureCodeServer({ force = false } = {}) {
  if (!force && codeServerInstalled()) {
    log(`code-server ${CODE_SERVER_VERSION} already installed in ${CACHE_DIR}`);
    return;
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) throw new E2eSetupError(`code-server ${CODE_SERVER_VERSION} needs Node 20; this is Node ${process.versions.node}`);
  if (!have('rg')) throw new E2eSetupError('Debian\'s ripgrep (rg) is missing: install the ripgrep package');
  const t0 = Date.now();
  log(`installing code-server ${CODE_SERVER_VERSION} into ${CACHE_DIR} (about 2 minutes, 300 MB)`);
  rmSync(MARKER, { force: true });
  // A partial install is not trusted (npm would call it up to date and skip code-server's postinstall): start clean.
  rmSync(join(CACHE_DIR, 'node_modules'), { recursive: true, force: true });
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmpDir = join(CACHE_DIR, 'tmp');
  mkdirSync(tmpDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpDir, 'setup-'));
  try {
    writeFileSync(
      join(CACHE_DIR, 'package.json'),
      JSON.stringify({ name: 'e2e-code-server', private: true, description: 'code-server for the real-editor tests (scripts/e2e-setup.mjs)', dependencies: { 'code-server': CODE_SERVER_VERSION },
        // npm 11.x warns about (and, with strict-allow-scripts, blocks) install scripts not listed here.
        allowScripts: { 'code-server': true, argon2: true } }, null, 2) + '\n',
    );
    log('reading code-server\'s lock files for the ripgrep version');
    const csTgz = capture('npm', ['pack', `code-server@${CODE_SERVER_VERSION}`, '--silent', '--pack-destination', scratch], { cwd: scratch }).trim().split('\n').pop();
    for (const v of ripgrepPackageVersions(join(scratch, csTgz), scratch)) prefillRipgrepCache(v, tmpDir, scratch);

    const env = {
      ...process.env,
      TMPDIR: tmpDir, // @vscode/ripgrep looks for its cache in os.tmpdir()
      npm_config_yes: 'true', // node-pty's build runs `npx node-gyp`
      npm_config_unsafe_perm: 'true', // code-server's postinstall refuses to run as root without it
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
    // Use the headers of the installed Node instead of downloading them from nodejs.org.
    const nodePrefix = resolve(dirname(process.execPath), '..');
    if (existsSync(join(nodePrefix, 'include', 'node', 'common.gypi'))) env.npm_config_nodedir = nodePrefix;
    log('npm install (code-server and its postinstall: VS Code dependencies, native modules)');
    const status = run('npm', ['install', '--unsafe-perm', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: CACHE_DIR, env });
    if (status !== 0) throw new E2eSetupError(`npm install of code-server failed (exit ${status}); see the output above`);
    if (!existsSync(CODE_SERVER_ENTRY)) throw new E2eSetupError(`npm install finished but ${CODE_SERVER_ENTRY} is missing`);
    for (const sub of ['node-pty', '@vscode/ripgrep']) {
      if (!existsSync(join(CODE_SERVER_DIR, 'lib', 'vscode', 'node_modules', sub))) throw new E2eSetupError(`code-server's postinstall did not install ${sub}`);
    }
    writeFileSync(MARKER, `${new Date().toISOString()}\n`);
    log(`code-server installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Everything the real-editor tests need. Returns timings in ms.
 * Throws E2eSetupError; `err.aptUnavailable` is true only when apt-get is missing (tests may skip then).
 */
export function ensureE2eSetup({ apt = true, force = false } = {}) {
  const t0 = Date.now();
  if (apt) ensureDebianPackages();
  const t1 = Date.now();
  if (!existsSync(CHROMIUM)) throw new E2eSetupError(`${CHROMIUM} is missing: install Debian's chromium package`);
  ensureCodeServer({ force });
  const t2 = Date.now();
  return { aptMs: t1 - t0, codeServerMs: t2 - t1, totalMs: t2 - t0 };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    const t = ensureE2eSetup({ apt: !args.includes('--no-apt'), force: args.includes('--force') });
    log(`ready in ${(t.totalMs / 1000).toFixed(1)} s (apt ${(t.aptMs / 1000).toFixed(1)} s, code-server ${(t.codeServerMs / 1000).toFixed(1)} s)`);
  } catch (err) {
    log(`FAILED: ${err.message}`);
    process.exit(err.aptUnavailable ? 2 : 1);
  }
}
