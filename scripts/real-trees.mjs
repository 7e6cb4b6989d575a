// `npm run real-trees -- DIR...`: runs the notifier-audit CLI on whole kernel trees and compares its findings with
// the judgement files test/real-trees/<tree>.json (one per tree, each finding with a verdict "true" | "latent" |
// "false" | "unjudged" and a one-line reason, paths relative to the tree root).
//
// Each DIR is a kernel tree root (has a Makefile with VERSION/PATCHLEVEL) or a directory holding tree dirs (like
// /work/trees). A tree's judgement file is the one named after the tree dir's basename, else the only one whose
// "version" equals the tree Makefile's version. Findings match by (file, function, rule, line); a finding whose
// line alone differs is printed as "moved" (information only). Printed per tree: NEW findings (not in the file),
// MISSING findings (in the file, not reported), the counts (findings, verdicts, time) and WARNING lines for the
// judgement contract (before 3.7 every unbracketed-change-pte finding must be verdict "true"; from 3.7 on, any
// unbracketed-change-pte finding is suspicious).
//
// Options: --update (rewrite/create the judgement files from this run, keeping verdicts and reasons of findings
// that still match, new ones "unjudged"), --json (machine-readable summary on stdout), --strict (a tree without a
// judgement file fails), --judgements DIR (default test/real-trees).
// Exit: 0 all trees match, 1 new / missing findings (or a failed CLI run), 2 usage error.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin/notifier-audit.js');
const CHANGE_PTE = 'unbracketed-change-pte';
const TIMEOUT_MS = 15 * 60 * 1000;
const USAGE = 'usage: npm run real-trees -- [--update] [--json] [--strict] [--judgements DIR] DIR...';

function usage(msg) {
  process.stderr.write(`real-trees: ${msg}\n`);
  process.exit(2);
}

/** "3.6.5" from a Makefile's VERSION / PATCHLEVEL / SUBLEVEL lines, or undefined when it is not a kernel Makefile. */
function makefileVersion(dir) {
  let text;
  try {
    text = readFileSync(join(dir, 'Makefile'), 'utf8');
  } catch {
    return undefined;
  }
  const get = (k) => new RegExp(`^${k}\\s*=\\s*(\\d+)`, 'm').exec(text)?.[1];
  const [v, p, s] = [get('VERSION'), get('PATCHLEVEL'), get('SUBLEVEL')];
  return v && p ? `${v}.${p}.${s ?? 0}` : undefined;
}
/** A path for messages: relative to the repository when inside it. */
const show = (p) => (relative(ROOT, p).startsWith('..') ? p : relative(ROOT, p));
const versionBefore = (version, major, minor) => {
  const [a, b] = String(version).split('.').map(Number);
  return a < major || (a === major && b < minor);
};

/** The kernel trees of a DIR: itself when it has a kernel Makefile, else its sub-directories that have one. */
function findTrees(dir) {
  if (makefileVersion(dir)) return [dir];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && makefileVersion(join(dir, e.name)))
    .map((e) => join(dir, e.name))
    .sort();
}

/** The judgement files of a directory: [{ path, data }]. */
function loadJudgements(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => {
      try {
        return { path: join(dir, n), data: JSON.parse(readFileSync(join(dir, n), 'utf8')) };
      } catch (e) {
        return usage(`${join(dir, n)}: not a judgement file (${e.message})`);
      }
    });
}
function judgementFor(tree, version, judgements) {
  const name = basename(tree);
  const byName = judgements.find((j) => j.data.tree === name || basename(j.path) === `${name}.json`);
  if (byName) return byName;
  const byVersion = judgements.filter((j) => j.data.version === version);
  return byVersion.length === 1 ? byVersion[0] : undefined;
}

/** Runs the CLI on the whole tree: { findings: [{file, function, rule, line}], ms } or { error, ms }. */
function audit(tree) {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, '--format', 'json', tree], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', (e) => done({ error: e.message, ms: 0 }));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      const why = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-2).join(' ');
      if (code !== 0 && code !== 1) return done({ error: `CLI exit ${code ?? signal}: ${why}`, ms });
      try {
        const json = JSON.parse(Buffer.concat(out).toString('utf8'));
        const findings = json.findings.map((f) => ({ file: relative(tree, resolve(tree, f.file)).split('\\').join('/'), function: f.function ?? '', rule: f.rule, line: f.line }));
        done({ findings: sortFindings(findings), ms });
      } catch (e) {
        done({ error: `CLI output is not JSON: ${e.message}`, ms });
      }
    });
  });
}
const sortFindings = (xs) => xs.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));

/**
 * Matches the findings of a run with the judged ones: equal (file, function, rule, line) first, then what is left
 * with equal (file, function, rule) in line order ("moved"). Returns { matched: [[cur, judged]], moved, added, missing }.
 */
function compare(current, judged) {
  const key = (f) => `${f.file}\0${f.function}\0${f.rule}`;
  const left = [...judged];
  const take = (pred) => {
    const i = left.findIndex(pred);
    return i < 0 ? undefined : left.splice(i, 1)[0];
  };
  const matched = [];
  const rest = [];
  for (const c of current) {
    const j = take((f) => key(f) === key(c) && f.line === c.line);
    if (j) matched.push([c, j]);
    else rest.push(c);
  }
  const moved = [];
  const added = [];
  for (const c of rest) {
    const j = take((f) => key(f) === key(c));
    if (j) moved.push([c, j]);
    else added.push(c);
  }
  return { matched, moved, added, missing: left };
}

/** Reads /work/trees-style MANIFEST.jsonl next to the tree, for repo / commit / subdir / note of a new file. */
function manifestEntry(tree) {
  try {
    const lines = readFileSync(join(dirname(tree), 'MANIFEST.jsonl'), 'utf8').split('\n').filter(Boolean);
    return lines.map((l) => JSON.parse(l)).find((e) => basename(e.dir) === basename(tree));
  } catch {
    return undefined;
  }
}

/** Writes the judgement file of a tree from this run (keeping verdicts and reasons of matched / moved findings). */
function update(tree, version, judgement, cmp, dir) {
  const m = manifestEntry(tree);
  const name = basename(tree);
  const base = judgement?.data ?? {
    tree: name,
    version: m?.version ?? version,
    repo: m?.repo ?? '',
    commit: m?.commit ?? '',
    ...(m?.subdir ? { subdir: m.subdir } : {}),
    command: `notifier-audit ${name}`,
    findings: [],
    notes: [
      ...(m?.note ? [m.note] : []),
      ...(m?.missing_files ? [`${m.missing_files} files of the repository were not extracted (${name}.missing.txt next to the tree)`] : []),
    ],
  };
  const keep = ([c, j]) => ({ ...c, verdict: j.verdict ?? 'unjudged', reason: j.reason ?? '' });
  const findings = sortFindings([...cmp.matched.map(keep), ...cmp.moved.map(keep), ...cmp.added.map((c) => ({ ...c, verdict: 'unjudged', reason: '' }))]);
  const path = judgement?.path ?? join(dir, `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...base, findings }, null, 2) + '\n');
  return path;
}

/**
 * The contract of the judgement files, as WARNING lines: before 3.7 every judged unbracketed-change-pte finding must
 * be verdict "true"; from 3.7 on, every reported unbracketed-change-pte finding is worth a second look.
 */
function contractWarnings(version, cmp) {
  const judged = [...cmp.matched, ...cmp.moved].map(([c, j]) => ({ ...c, verdict: j.verdict }));
  const pte = (f) => f.rule === CHANGE_PTE;
  const where = (f) => `${f.file}:${f.line} ${f.function}: ${CHANGE_PTE}`;
  if (versionBefore(version, 3, 7)) return judged.filter((f) => pte(f) && f.verdict !== 'true').map((f) => `${where(f)} before 3.7 must be verdict "true" (is "${f.verdict}")`);
  return [...judged, ...cmp.added.map((c) => ({ ...c, verdict: 'new' }))].filter(pte).map((f) => `${where(f)} on a >= 3.7 tree (verdict "${f.verdict}")`);
}

async function main(argv) {
  const opts = { update: false, json: false, strict: false, judgements: join(ROOT, 'test/real-trees') };
  const dirs = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--update') opts.update = true;
    else if (a === '--json') opts.json = true;
    else if (a === '--strict') opts.strict = true;
    else if (a === '--judgements') {
      if (!argv[i + 1]) usage('--judgements needs a directory');
      opts.judgements = resolve(argv[++i]);
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else dirs.push(a);
  }
  if (!dirs.length) usage(`no DIR given (${USAGE})`);
  const trees = [];
  for (const d of dirs) {
    if (!existsSync(d) || !statSync(d).isDirectory()) usage(`${d}: no such directory`);
    const found = findTrees(realpathSync(d));
    if (!found.length) usage(`${d}: no kernel tree found (no Makefile with VERSION / PATCHLEVEL here or one level down)`);
    trees.push(...found);
  }
  if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist/cli.js'))) usage('dist/cli.js is missing: run `npm run build` first');

  const judgements = loadJudgements(opts.judgements);
  const print = (s) => !opts.json && process.stdout.write(`${s}\n`);
  const summary = { trees: [], noJudgement: [], ok: true };
  for (const tree of trees) {
    const version = makefileVersion(tree);
    const judgement = judgementFor(tree, version, judgements);
    const name = basename(tree);
    const r = await audit(tree);
    const row = { tree: name, dir: tree, version, judgement: judgement ? show(judgement.path) : null, ms: Math.round(r.ms) };
    summary.trees.push(row);
    if (r.error) {
      Object.assign(row, { error: r.error });
      summary.ok = false;
      print(`ERROR ${name}: ${r.error}`);
      continue;
    }
    const cmp = compare(r.findings, judgement?.data.findings ?? []);
    const verdicts = {};
    for (const [, j] of [...cmp.matched, ...cmp.moved]) verdicts[j.verdict ?? 'unjudged'] = (verdicts[j.verdict ?? 'unjudged'] ?? 0) + 1;
    const byRule = {};
    for (const f of r.findings) byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
    const warnings = contractWarnings(judgement?.data.version ?? version, cmp);
    const text = (f) => `${f.file}:${f.line} ${f.function} [${f.rule}]`;
    Object.assign(row, {
      findings: r.findings.length,
      byRule,
      verdicts,
      new: cmp.added.map(text),
      missing: cmp.missing.map(text),
      moved: cmp.moved.map(([c, j]) => `${text(j)} -> line ${c.line}`),
      warnings,
    });
    if (opts.update) row.updated = show(update(tree, version, judgement, cmp, opts.judgements));
    else if (!judgement) summary.noJudgement.push(name);
    else if (cmp.added.length || cmp.missing.length) summary.ok = false;

    print(`== ${name} (${version})${judgement ? '' : ' - no judgement file'}`);
    if (judgement) {
      for (const x of row.new) print(`NEW      ${x}`);
      for (const x of row.missing) print(`MISSING  ${x}`);
      for (const x of row.moved) print(`moved    ${x}`);
    }
    for (const x of warnings) print(`WARNING  ${name}: ${x}`);
    if (row.updated) print(`updated  ${row.updated}`);
    const vs = ['true', 'latent', 'false', 'unjudged'].map((v) => `${v} ${verdicts[v] ?? 0}`).join(', ');
    print(`${name}: ${row.findings} findings (${vs}), ${row.new.length} new, ${row.missing.length} missing, ${row.moved.length} moved, ${(row.ms / 1000).toFixed(1)} s`);
  }
  if (summary.noJudgement.length) {
    print(`no judgement file: ${summary.noJudgement.join(', ')} (in ${show(opts.judgements)}; create with --update)`);
    if (opts.strict) summary.ok = false;
  }
  if (opts.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  return summary.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`real-trees: ${e.stack ?? e}\n`);
    process.exitCode = 2;
  },
);
