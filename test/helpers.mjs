// Shared test helpers: the built engine, one parser per process, and fixture expectations read from the C files.
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const engine = require(join(ROOT, 'dist/engine.js'));

let parserPromise;
export function getParser() {
  parserPromise ??= engine.CParser.create();
  return parserPromise;
}

export function listFiles(dir, ext = '.c') {
  const out = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, ext));
    else if (p.endsWith(ext)) out.push(p);
  }
  return out;
}

/** Expectations written in a fixture: `expect: <rule>` and `expect-suppressed: <rule>` comments, by line. */
export function expectations(text) {
  const expected = [];
  const suppressed = [];
  text.split('\n').forEach((l, i) => {
    for (const m of l.matchAll(/expect:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)/g)) for (const r of m[1].split(/\s*,\s*/)) expected.push(`${r}@${i + 1}`);
    for (const m of l.matchAll(/expect-suppressed:\s*([a-z-]+)/g)) suppressed.push(`${m[1]}@${i + 1}`);
  });
  const v = /kernel-version:\s*([\d.]+)/.exec(text);
  return { expected: expected.sort(), suppressed: suppressed.sort(), version: v ? v[1] : null };
}

/** Analyses one or more C files together (a fixture, or a fixture folder of several files). */
export async function analyzeFiles(files, version, settings) {
  const parser = await getParser();
  const project = new engine.Project(parser, {
    settings: settings ?? engine.DEFAULT_SETTINGS,
    kernelVersion: version ? engine.parseVersion(version, 'fixture') : null,
  });
  for (const f of files) project.setFile(f, readFileSync(f, 'utf8'));
  const r = project.analyze();
  project.dispose();
  return r;
}

/** mulberry32: a small deterministic PRNG (values in [0, 1)), for seeded fuzz and property tests. */
export function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
