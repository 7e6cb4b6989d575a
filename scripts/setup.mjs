// One-step set-up on a fresh machine: npm packages always; with --test/--bench also the Debian packages the tests use.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const log = (m) => process.stderr.write(`[setup] ${m}\n`);

function npmInstallIfNeeded() {
  const marker = join(root, 'node_modules/.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && existsSync(lock) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm packages (npm ci)');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Installs Debian packages that are missing; returns false (with a printed reason) where apt is unavailable. */
export function aptInstall(pkgs, check) {
  const missing = pkgs.filter((p) => !check(p));
  if (missing.length === 0) return true;
  if (!have('apt-get')) {
    log(`apt-get is not available: cannot install ${missing.join(' ')}`);
    return false;
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const sudo = process.getuid && process.getuid() === 0 ? '' : 'sudo ';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('sh', ['-c', `${sudo}apt-get install -y ${missing.join(' ')}`], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('sh', ['-c', `${sudo}apt-get update`], { stdio: 'inherit', env });
    r = spawnSync('sh', ['-c', `${sudo}apt-get install -y ${missing.join(' ')}`], { stdio: 'inherit', env });
  }
  if (r.status !== 0) log(`apt-get install failed for ${missing.join(' ')}`);
  return r.status === 0;
}

const dpkgHas = (p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status === 0;

npmInstallIfNeeded();
if (args.includes('--test') || args.includes('--bench')) {
  const pkgs = ['linux-source-6.1', 'xz-utils'];
  if (args.includes('--test')) pkgs.push('neovim', 'chromium', 'ripgrep', 'libkrb5-dev', 'pkg-config', 'build-essential');
  if (args.includes('--bench')) pkgs.push('coccinelle', 'linux-source-6.12');
  aptInstall(pkgs, dpkgHas);
}
