// Makes sure a Debian linux-source tree is extracted under .cache/ (used by the benchmarks).
//   ensureKernelTree('6.1')  -> /abs/path/.cache/linux-source-6.1
// Order: an already extracted tree (its Makefile is the completion marker, since the extraction goes to a temporary
// directory that is renamed only when tar succeeded); else extract /usr/src/linux-source-X.Y.tar.xz; else install
// the Debian package linux-source-X.Y with apt-get and extract its tarball. Throws with a reason when all fail.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir = join(root, '.cache');
const log = (m) => process.stderr.write(`[kernel-tree] ${m}\n`);

export function treePath(version) {
  return join(cacheDir, `linux-source-${version}`);
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function aptInstall(pkg) {
  if (!have('apt-get')) throw new Error(`apt-get is not available: cannot install ${pkg}`);
  const sudo = process.getuid && process.getuid() === 0 ? '' : 'sudo ';
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`installing Debian package ${pkg}`);
  let r = spawnSync('sh', ['-c', `${sudo}apt-get install -y --no-install-recommends ${pkg} xz-utils`], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('sh', ['-c', `${sudo}apt-get update`], { stdio: 'inherit', env });
    r = spawnSync('sh', ['-c', `${sudo}apt-get install -y --no-install-recommends ${pkg} xz-utils`], { stdio: 'inherit', env });
  }
  if (r.status !== 0) throw new Error(`apt-get install ${pkg} failed (exit ${r.status})`);
}

/** Returns the path of the extracted tree for "6.1" / "6.12", extracting (and installing) it when missing. */
export function ensureKernelTree(version) {
  if (!/^\d+\.\d+$/.test(version)) throw new Error(`bad kernel version "${version}"`);
  const dest = treePath(version);
  if (existsSync(join(dest, 'Makefile')) && existsSync(join(dest, 'mm'))) return dest;
  const tarball = `/usr/src/linux-source-${version}.tar.xz`;
  if (!existsSync(tarball)) aptInstall(`linux-source-${version}`);
  if (!existsSync(tarball)) throw new Error(`${tarball} is missing even after installing linux-source-${version}`);
  mkdirSync(cacheDir, { recursive: true });
  const tmp = join(cacheDir, `.extract-${version}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`extracting ${tarball} into ${dest} (about a minute)`);
  const t0 = Date.now();
  // xz -T0 decompresses with several threads where the archive has several blocks; plain tar -xJf otherwise.
  const cmd = have('xz') ? `xz -T0 -dc '${tarball}' | tar -x -C '${tmp}'` : `tar -xJf '${tarball}' -C '${tmp}'`;
  const shell = have('bash') ? ['bash', ['-o', 'pipefail', '-c', cmd]] : ['sh', ['-c', cmd]];
  const r = spawnSync(shell[0], shell[1], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 15 * 60 * 1000 });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`extracting ${tarball} failed (${r.error ? r.error.message : `exit ${r.status}`})`);
  }
  const inner = join(tmp, `linux-source-${version}`);
  if (!existsSync(join(inner, 'Makefile'))) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${tarball} did not contain linux-source-${version}/Makefile`);
  }
  if (existsSync(dest)) rmSync(dest, { recursive: true, force: true }); // an incomplete earlier tree
  renameSync(inner, dest);
  rmSync(tmp, { recursive: true, force: true });
  log(`extracted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return dest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const v of process.argv.slice(2).length ? process.argv.slice(2) : ['6.1']) {
    try {
      process.stdout.write(`${ensureKernelTree(v)}\n`);
    } catch (e) {
      process.stderr.write(`[kernel-tree] ${e.message}\n`);
      process.exitCode = 1;
    }
  }
}
