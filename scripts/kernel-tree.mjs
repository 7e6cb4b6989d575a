// Makes a Debian kernel source tree available under .cache/ (installing linux-source-X with apt and extracting it).
import { existsSync, mkdirSync, renameSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Returns the extracted tree's path, or { skip: reason } when it cannot be had here (no apt). */
export function ensureKernelTree(version, log = (m) => process.stderr.write(`[kernel-tree] ${m}\n`)) {
  const dest = join(ROOT, '.cache', `linux-source-${version}`);
  if (existsSync(join(dest, 'Makefile')) && existsSync(join(dest, 'mm'))) return { path: dest };
  const tarball = `/usr/src/linux-source-${version}.tar.xz`;
  if (!existsSync(tarball)) {
    if (spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) return { skip: `apt-get is not available to install linux-source-${version}` };
    log(`installing linux-source-${version} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    let r = spawnSync('sh', ['-c', `${sudo}apt-get install -y --no-install-recommends linux-source-${version} xz-utils`], { stdio: 'inherit', env });
    if (r.status !== 0) {
      spawnSync('sh', ['-c', `${sudo}apt-get update`], { stdio: 'inherit', env });
      r = spawnSync('sh', ['-c', `${sudo}apt-get install -y --no-install-recommends linux-source-${version} xz-utils`], { stdio: 'inherit', env });
    }
    if (r.status !== 0 || !existsSync(tarball)) throw new Error(`could not install linux-source-${version} (apt-get exit ${r.status})`);
  }
  log(`extracting ${tarball}`);
  const tmp = join(ROOT, '.cache', `extract-${version}-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const r = spawnSync('tar', ['-xJf', tarball, '-C', tmp], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tar failed on ${tarball}`);
  const inner = readdirSync(tmp).find((d) => d.startsWith('linux'));
  if (!inner) throw new Error(`unexpected tarball layout in ${tarball}`);
  renameSync(join(tmp, inner), dest);
  spawnSync('rm', ['-rf', tmp]);
  return { path: dest };
}
