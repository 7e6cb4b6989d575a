// `npm run bench`: the performance numbers of the README, measured side by side in one run and printed as ratios
// against a baseline measured in the same run (never a bare time as the target).
//
//   1. in-process: bare tree-sitter parse (CParser.parseRaw) vs full analysis (Project.setFile + analyze) of the same
//      files of mm/ (the pre-filtered set the engine really parses, and all files of mm/);
//   2. the CLI on mm/memory.c, mm/ and the whole linux-source-6.1 tree: wall time with start-up, files/s, MB/s, peak
//      RSS, phases (walk/scan/analyze), --jobs 1 and --jobs 2;
//   3. spatch (Debian's coccinelle) with bench/cocci/*.cocci, one run per rule, on the same three targets; ours vs
//      spatch ratios and report counts; the agreement of both tools on test/fixtures/rules;
//   4. bench/simulator.mjs, bench/lsp-latency.mjs, bench/pathological.mjs (generated functions against the
//      per-function budget and RSS) and bench/subscriber.mjs (all rules against the mm side alone on the whole 6.1
//      tree), run as children, their output included;
//   5. our CLI on linux-source-6.12 (mm/ and whole tree);
//   6. when $NOTIFIER_AUDIT_TREES or /work/trees exists: scripts/real-trees.mjs on those whole kernel trees (findings
//      against the judgement files test/real-trees/*.json) and spatch's matches per rule on each tree.
// Output: Markdown on stdout, also written to bench/results.md. Every child process is time-bounded (5 minutes).
// Options: --quick (fewer repetitions), --skip-spatch, --skip-extras (no simulator / lsp-latency), --no-6.12,
// --real-trees-only (only section 6, printed and not written to bench/results.md).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ensureKernelTree } from './kernel-tree.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin/notifier-audit.js');
const COCCI = join(ROOT, 'bench/cocci');
const RULE1 = 'unbracketed-change-pte';
const RULE2 = 'notifier-under-ptl';
const CHILD_TIMEOUT_MS = 5 * 60 * 1000;
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const log = (m) => process.stderr.write(`[bench] ${m}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Small helpers
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmtMs = (ms) => (ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
const fmtX = (x) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)}x` : 'n/a');
/** "ours vs theirs" as "N x faster" (theirs / ours >= 1) or "N x slower". */
const fmtFaster = (theirs, ours) => (!Number.isFinite(theirs / ours) ? 'n/a' : theirs >= ours ? `${fmtX(theirs / ours)} faster` : `${fmtX(ours / theirs)} slower`);
const fmtMB = (kb) => (kb ? `${(kb / 1024).toFixed(0)} MB` : 'n/a');
const verdict = (ok) => (ok === undefined ? '' : ok ? 'met' : '**not met**');

/** The .c/.h files the CLI walks (same rules as collectFiles: dot-entries skipped). */
function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if ((e.isFile() || e.isSymbolicLink()) && /\.[ch]$/.test(e.name)) out.push(p);
  }
  return out;
}
function bytesOf(files) {
  let n = 0;
  for (const f of files) {
    try {
      n += statSync(f).size;
    } catch {
      /* vanished */
    }
  }
  return n;
}
function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/**
 * Runs a command in its own process group, bounded by CHILD_TIMEOUT_MS (the whole group is killed on timeout).
 * With /usr/bin/time available and rss=true, also returns the peak RSS (KB) of the command.
 */
function run(cmd, args, { cwd = ROOT, env = process.env, rss = false, timeoutMs = CHILD_TIMEOUT_MS } = {}) {
  return new Promise((resolveP) => {
    let timeFile;
    let file = cmd;
    let fargs = args;
    if (rss && existsSync('/usr/bin/time')) {
      timeFile = join(mkdtempSync(join(os.tmpdir(), 'bench-')), 'time');
      file = '/usr/bin/time';
      fargs = ['-o', timeFile, '-f', '%e %M', cmd, ...args];
    }
    const t0 = performance.now();
    let child;
    try {
      child = spawn(file, fargs, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolveP({ code: -1, error: e.message, stdout: '', stderr: '', ms: 0 });
      return;
    }
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolveP({ code: -1, error: e.message, stdout: '', stderr: '', ms: performance.now() - t0 });
    });
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      let rssKb;
      if (timeFile) {
        try {
          const m = /([\d.]+)\s+(\d+)\s*$/.exec(readFileSync(timeFile, 'utf8').trim());
          if (m) rssKb = Number(m[2]);
        } catch {
          /* killed before time wrote */
        }
        rmSync(dirname(timeFile), { recursive: true, force: true });
      }
      resolveP({ code, timedOut, ms, rssKb, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// 1. In-process: bare parse vs full analysis (runs in a child: `node bench/run.mjs --inprocess <tree> <sub> <runs>`)
async function inProcessChild(tree, sub, runs) {
  const require = createRequire(import.meta.url);
  const e = require(join(ROOT, 'dist/engine.js'));
  const dir = join(tree, sub);
  const parser = await e.CParser.create();
  const settings = e.DEFAULT_SETTINGS;
  const kernelVersion = e.parseVersion('6.1', 'bench');
  const info = e.findKernelTree(dir);
  let header;
  if (info?.notifierHeader) {
    try {
      header = { text: readFileSync(info.notifierHeader, 'utf8'), path: info.notifierHeader };
    } catch {
      /* built-in model */
    }
  }

  // Discovery: the CLI's own audit() over the directory, recording which files it hands to the Project (the
  // pre-filter's candidates) and which texts the Project really parses.
  const candidates = [];
  const textToFile = new Map();
  const origSetFile = e.Project.prototype.setFile;
  e.Project.prototype.setFile = function (file, text) {
    candidates.push(file);
    textToFile.set(text, file);
    return origSetFile.call(this, file, text);
  };
  const parsedTexts = new Set();
  const origParse = parser.parse.bind(parser);
  // Batch mode parses function definitions a few at a time (parseSpans; its first argument is the file's text).
  const origParseSpans = parser.parseSpans.bind(parser);
  parser.parse = (text, old, deadline) => {
    parsedTexts.add(text);
    return origParse(text, old, deadline);
  };
  parser.parseSpans = (text, ...rest) => {
    parsedTexts.add(text);
    return origParseSpans(text, ...rest);
  };
  const ar = await e.audit([dir], { settings, jobs: 1, parser });
  e.Project.prototype.setFile = origSetFile;
  parser.parse = origParse;
  parser.parseSpans = origParseSpans;
  const parsedFiles = [...parsedTexts].map((t) => textToFile.get(t)).filter(Boolean);

  const all = walk(dir).sort();
  const texts = new Map();
  for (const f of all) {
    try {
      texts.set(f, readFileSync(f, 'utf8'));
    } catch {
      /* unreadable: the CLI reports it */
    }
  }
  const bare = (files) => {
    const t = performance.now();
    for (const f of files) parser.parseRaw(texts.get(f)).delete();
    return performance.now() - t;
  };
  let parseMs = 0;
  let parseCalls = 0;
  const full = (files, instrument = false) => {
    if (instrument) {
      const wrap = (fn) => (...args) => {
        const t = performance.now();
        try {
          return fn(...args);
        } finally {
          parseMs += performance.now() - t;
          parseCalls++;
        }
      };
      parser.parse = wrap(origParse);
      parser.parseSpans = wrap(origParseSpans);
    }
    const t = performance.now();
    // The same options as the CLI's audit(): batch runs parse only the functions that can matter.
    const p = new e.Project(parser, { settings, kernelVersion, header, partialParse: true });
    for (const f of files) p.setFile(f, texts.get(f));
    const r = p.analyze();
    p.dispose();
    const ms = performance.now() - t;
    if (instrument) {
      parser.parse = origParse;
      parser.parseSpans = origParseSpans;
    }
    return { ms, findings: r.findings.length, parsed: r.filesParsed, functions: r.functionsAnalysed, incomplete: r.incomplete.length };
  };
  // Bare and full runs alternate (after two warm-ups of each: the tree-sitter wasm and the analysis code tier up over
  // the first runs), so that a change of load on a shared machine hits both sides of the ratio.
  const measurePair = (a, b) => {
    for (let i = 0; i < 2; i++) {
      a();
      b();
    }
    const xa = [];
    const xb = [];
    for (let i = 0; i < runs; i++) {
      xa.push(a());
      xb.push(b());
    }
    return [median(xa), median(xb)];
  };
  const sets = { prefiltered: parsedFiles.filter((f) => texts.has(f)), all: all.filter((f) => texts.has(f)) };
  const result = { dir: sub, runs, candidates: candidates.length, auditFindings: ar.findings.length, sets: {} };
  for (const [name, files] of Object.entries(sets)) {
    let last;
    const [bareMs, fullMs] = measurePair(
      () => bare(files),
      () => (last = full(files)).ms,
    );
    parseMs = 0;
    parseCalls = 0;
    const inst = full(files, true);
    result.sets[name] = {
      files: files.length,
      bytes: files.reduce((n, f) => n + Buffer.byteLength(texts.get(f)), 0),
      bareMs,
      fullMs,
      ratio: fullMs / bareMs,
      engineParsed: last.parsed,
      functions: last.functions,
      findings: last.findings,
      incomplete: last.incomplete,
      // One instrumented run: how much of the analysis is the engine's own parse (pre-pass + tree-sitter).
      instrumented: { totalMs: inst.ms, parseMs, parseCalls },
    };
  }
  process.stdout.write(JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------------------------------
// 2./5. The CLI
function parseStats(stderr) {
  const m = /notifier-audit: stats (\{.*\})/.exec(stderr);
  try {
    return m ? JSON.parse(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
function cliArgs(target, jobs) {
  return [CLI, '--format', 'json', ...(jobs ? ['--jobs', String(jobs)] : []), target];
}
const cliEnv = () => ({ ...process.env, NOTIFIER_AUDIT_STATS: '1' });
function cliOnce(tree, target, jobs) {
  return run(process.execPath, cliArgs(target, jobs), { cwd: tree, env: cliEnv(), rss: true });
}
/** Median of several runs of the CLI (each `run()` result), with the JSON of the median run decoded. */
function cliSummary(rs) {
  const ok = rs.filter((r) => !r.timedOut && (r.code === 0 || r.code === 1));
  if (!ok.length) {
    const r = rs[0];
    return { error: r.timedOut ? 'timed out' : `exit ${r.code}: ${(r.error || r.stderr).trim().split('\n').slice(-2).join(' ')}` };
  }
  const mid = ok.slice().sort((a, b) => a.ms - b.ms)[Math.floor((ok.length - 1) / 2)];
  let json;
  try {
    json = JSON.parse(mid.stdout);
  } catch (e) {
    return { error: `bad JSON: ${e.message}` };
  }
  const byRule = {};
  for (const f of json.findings) byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
  return {
    ms: median(ok.map((r) => r.ms)),
    runs: ok.length,
    rssKb: Math.max(...ok.map((r) => r.rssKb ?? 0)) || undefined,
    stats: parseStats(mid.stderr),
    filesScanned: json.filesScanned,
    findings: json.findings,
    byRule,
    suppressed: json.suppressed.length,
    incomplete: json.incomplete.length,
    kernelVersion: json.kernelVersion,
  };
}
async function cliRun(tree, target, jobs, reps) {
  await run(process.execPath, cliArgs(target, jobs), { cwd: tree, env: cliEnv() }); // warm-up (page cache)
  const rs = [];
  for (let i = 0; i < reps; i++) rs.push(await cliOnce(tree, target, jobs));
  return cliSummary(rs);
}

// ---------------------------------------------------------------------------------------------------------------
// 3. spatch
function spatchEnv(tree) {
  // Debian's spatch looks python3 up on PATH (a pyenv shim costs it ~0.2 s per start): give it the system one first.
  return { ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH ?? ''}`, GIT_CEILING_DIRECTORIES: dirname(tree) };
}
function spatchArgs(cocci, target) {
  // --use-coccigrep: spatch's own token pre-filter. Its default in a git work tree is `git grep`, which finds nothing
  // here because .cache/ is git-ignored inside this repository (the result would be a bogus 0 files / 0 s).
  const where = target === '.' || !target.endsWith('.c') ? ['--dir', target, '-j', '2'] : [target];
  return ['--sp-file', cocci, ...where, '--no-includes', '--very-quiet', '--use-coccigrep'];
}
function spatchMatches(stdout) {
  const set = new Set();
  for (const l of stdout.split('\n')) {
    const m = /^([a-z-]+):(.+):(\d+):(\d+)$/.exec(l.trim());
    if (m) set.add(`${m[1]}:${m[2].replace(/^\.\//, '')}:${m[3]}`);
  }
  return [...set].sort();
}
function spatchOnce(tree, rule, target) {
  return run('spatch', spatchArgs(join(COCCI, `${rule}.cocci`), target), { cwd: tree, env: spatchEnv(tree), rss: true });
}
function spatchSummary(rs) {
  const ok = rs.filter((r) => !r.timedOut && r.code === 0);
  if (!ok.length) return { error: rs[0].timedOut ? 'timed out after 5 min' : `exit ${rs[0].code}: ${(rs[0].error || rs[0].stderr).trim().split('\n').slice(-2).join(' ')}` };
  return { ms: median(ok.map((r) => r.ms)), runs: ok.length, rssKb: Math.max(...ok.map((r) => r.rssKb ?? 0)) || undefined, matches: spatchMatches(ok[0].stdout) };
}

// ---------------------------------------------------------------------------------------------------------------
// Fixture agreement: expectations written in each fixture vs our findings vs each cocci file's matches
async function fixtureAgreement(spatchOk) {
  const require = createRequire(import.meta.url);
  const e = require(join(ROOT, 'dist/engine.js'));
  const parser = await e.CParser.create();
  const dir = join(ROOT, 'test/fixtures/rules');
  const files = walk(dir).filter((f) => f.endsWith('.c')).sort();
  const spatchHits = new Map(); // file -> Set("rule@line")
  const spatchNote = [];
  if (spatchOk) {
    for (const rule of [RULE1, RULE2]) {
      const r = await run('spatch', ['--sp-file', join(COCCI, `${rule}.cocci`), '--dir', '.', '--no-includes', '--very-quiet', '--use-coccigrep'], { cwd: dir, env: spatchEnv(dir) });
      if (r.code !== 0 || r.timedOut) spatchNote.push(`spatch ${rule} failed on the fixtures: ${r.timedOut ? 'timeout' : (r.stderr || '').trim().split('\n').pop()}`);
      for (const m of spatchMatches(r.stdout)) {
        const [, file, line] = /^[a-z-]+:(.+):(\d+)$/.exec(m);
        const abs = join(dir, file);
        if (!spatchHits.has(abs)) spatchHits.set(abs, new Set());
        spatchHits.get(abs).add(`${rule}@${line}`);
      }
    }
  }
  const rows = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const expected = [];
    text.split('\n').forEach((l, i) => {
      for (const m of l.matchAll(/expect(-suppressed)?:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)/g)) for (const r of m[2].split(/\s*,\s*/)) expected.push(`${r}@${i + 1}${m[1] ? ' (suppressed)' : ''}`);
    });
    const v = /kernel-version:\s*([\d.]+)/.exec(text);
    const p = new e.Project(parser, { settings: e.DEFAULT_SETTINGS, kernelVersion: v ? e.parseVersion(v[1], 'fixture') : null });
    p.setFile(f, text);
    const r = p.analyze();
    p.dispose();
    const ours = [...r.findings.map((x) => `${x.rule}@${x.line}`), ...r.suppressed.map((x) => `${x.rule}@${x.line} (suppressed)`)].sort();
    const sp = [...(spatchHits.get(f) ?? [])].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    rows.push({ file: relative(dir, f), version: v?.[1] ?? '?', expected: expected.sort(), ours, spatch: sp });
  }
  return { rows, spatchNote };
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Other engineers' benchmarks, run as children
async function extraBench(name, args = []) {
  const file = join(ROOT, 'bench', name);
  if (!existsSync(file)) return { name, missing: true };
  const r = await run(process.execPath, [file, ...args], { cwd: ROOT, rss: false });
  return { name, code: r.code, timedOut: r.timedOut, ms: r.ms, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Whole real kernel trees: scripts/real-trees.mjs --json, then spatch with both cocci files on each tree
const REAL_TREES = process.env.NOTIFIER_AUDIT_TREES || '/work/trees';
async function realTrees(dir, spatchOk) {
  if (!existsSync(dir)) return undefined;
  const r = await run(process.execPath, [join(ROOT, 'scripts/real-trees.mjs'), '--json', dir], { timeoutMs: 60 * 60 * 1000 });
  let summary;
  try {
    summary = JSON.parse(r.stdout);
  } catch {
    return { dir, error: r.timedOut ? 'timed out' : `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}` };
  }
  for (const t of spatchOk ? summary.trees : []) {
    t.spatch = {};
    for (const rule of [RULE1, RULE2]) {
      log(`spatch ${rule} on ${t.tree}`);
      const s = spatchSummary([await spatchOnce(t.dir, rule, '.')]);
      t.spatch[rule] = s.error ?? s.matches.length;
    }
  }
  return { dir, ...summary };
}
function realTreesSection(out, rt, spatchWhy) {
  out(`### 6. Whole kernel trees under ${rt.dir} (scripts/real-trees.mjs against test/real-trees/*.json)`);
  out();
  if (rt.error) {
    out(`Not measured: ${rt.error}.`);
    out();
    return;
  }
  out(`New = reported now, not in the judgement file; missing = judged, not reported now; moved = same file, function and rule, other line. Verdicts of the findings still reported. spatch: distinct matched lines, one run per rule (\`--dir . -j 2\`, cwd the tree).`);
  out();
  out(`| tree | version | findings (${RULE1} / ${RULE2} / other) | new | missing | moved | true / latent / false / unjudged | time | spatch (${RULE1} / ${RULE2}) |`);
  out(`|---|---|---|---|---|---|---|---|---|`);
  for (const t of rt.trees) {
    if (t.error) {
      out(`| ${t.tree} | ${t.version} | ${t.error} |||||||`);
      continue;
    }
    const b = t.byRule;
    const other = t.findings - (b[RULE1] ?? 0) - (b[RULE2] ?? 0);
    const v = ['true', 'latent', 'false', 'unjudged'].map((k) => t.verdicts[k] ?? 0).join(' / ');
    const sp = t.spatch ? `${t.spatch[RULE1]} / ${t.spatch[RULE2]}` : spatchWhy;
    out(`| ${t.tree} | ${t.version} | ${t.findings} (${b[RULE1] ?? 0} / ${b[RULE2] ?? 0} / ${other}) | ${t.judgement ? t.new.length : 'no judgement file'} | ${t.missing?.length ?? 0} | ${t.moved?.length ?? 0} | ${v} | ${fmtMs(t.ms)} | ${sp} |`);
  }
  out();
  const warnings = rt.trees.flatMap((t) => (t.warnings ?? []).map((w) => `${t.tree}: ${w}`));
  for (const w of warnings.slice(0, 30)) out(`- WARNING ${w}`);
  if (warnings.length) out();
}

// ---------------------------------------------------------------------------------------------------------------
async function main() {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const REPS = QUICK ? 1 : 3;
  const INPROC_RUNS = QUICK ? 2 : 5;
  const md = [];
  const out = (s = '') => md.push(s);

  // Environment
  const spatchV = have('spatch') ? spawnSync('spatch', ['--version'], { encoding: 'utf8', env: spatchEnv(ROOT) }).stdout.split('\n')[0].trim() : '';
  const spatchOk = !argv.includes('--skip-spatch') && !!spatchV;
  const spatchWhy = argv.includes('--skip-spatch') ? 'skipped (--skip-spatch)' : 'spatch is not installed (Debian package `coccinelle`; `npm run bench` installs it where apt is available)';
  let commit = '';
  try {
    commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  } catch {
    /* not a git checkout */
  }
  const cpus = os.cpus();
  let tree61;
  try {
    tree61 = ensureKernelTree('6.1');
  } catch (e) {
    log(`linux-source-6.1 is not available: ${e.message}`);
  }
  if (!tree61) {
    process.stdout.write(`Benchmark not run: linux-source-6.1 is not available (see the messages above).\n`);
    process.exitCode = 2;
    return;
  }
  const allFiles = walk(tree61);
  const mmFiles = walk(join(tree61, 'mm'));
  const treeBytes = bytesOf(allFiles);
  const mmBytes = bytesOf(mmFiles);
  const memBytes = bytesOf([join(tree61, 'mm/memory.c')]);

  log(`fixture agreement`);
  const fixtures = await fixtureAgreement(spatchOk);

  log(`in-process parse vs analysis on mm/ (${INPROC_RUNS} runs each)`);
  const ip = await run(process.execPath, [fileURLToPath(import.meta.url), '--inprocess', tree61, 'mm', String(INPROC_RUNS)], { rss: true });
  let inproc;
  try {
    inproc = JSON.parse(ip.stdout);
  } catch {
    inproc = { error: ip.timedOut ? 'timed out' : `exit ${ip.code}: ${ip.stderr.trim().split('\n').slice(-3).join(' ')}` };
  }

  const targets = [
    { label: 'mm/memory.c', target: 'mm/memory.c', files: 1, bytes: memBytes },
    { label: 'mm/', target: 'mm', files: mmFiles.length, bytes: mmBytes },
    { label: 'whole tree', target: '.', files: allFiles.length, bytes: treeBytes },
  ];
  // Ours and spatch interleaved run by run on each target, so that a change of load on a shared machine hits both.
  const cli = {};
  const sp = {};
  for (const t of targets) {
    const whole = t.target === '.';
    log(`CLI${spatchOk ? ' and spatch' : ''} on 6.1 ${t.label}`);
    await run(process.execPath, cliArgs(t.target, 2), { cwd: tree61, env: cliEnv() }); // warm-up (page cache)
    if (spatchOk && !whole) for (const rule of [RULE1, RULE2]) await spatchOnce(tree61, rule, t.target);
    const raw = {};
    const push = (k, r) => (raw[k] ??= []).push(r);
    for (let rep = 0; rep < REPS; rep++) {
      for (const jobs of [1, 2]) push(`cli|${jobs}`, await cliOnce(tree61, t.target, jobs));
      // spatch on the whole tree: one run per rule (about 5 + 13 s here).
      if (spatchOk && (!whole || rep === 0)) for (const rule of [RULE1, RULE2]) push(`sp|${rule}`, await spatchOnce(tree61, rule, t.target));
    }
    for (const jobs of [1, 2]) cli[`${t.label}|${jobs}`] = cliSummary(raw[`cli|${jobs}`]);
    if (spatchOk) for (const rule of [RULE1, RULE2]) sp[`${t.label}|${rule}`] = spatchSummary(raw[`sp|${rule}`]);
  }

  let tree612;
  let tree612Error = '';
  const cli612 = {};
  if (!argv.includes('--no-6.12')) {
    try {
      tree612 = ensureKernelTree('6.12');
    } catch (e) {
      tree612Error = e.message;
    }
    if (tree612) {
      for (const t of [{ label: 'mm/', target: 'mm' }, { label: 'whole tree', target: '.' }]) {
        log(`CLI on 6.12 ${t.label}`);
        cli612[t.label] = { ...(await cliRun(tree612, t.target, 2, REPS)), files: walk(join(tree612, t.target)).length };
      }
    }
  } else tree612Error = 'skipped (--no-6.12)';

  const extras = [];
  if (!argv.includes('--skip-extras')) {
    log('bench/simulator.mjs');
    extras.push(await extraBench('simulator.mjs'));
    log('bench/lsp-latency.mjs');
    extras.push(await extraBench('lsp-latency.mjs'));
    log('bench/pathological.mjs');
    extras.push(await extraBench('pathological.mjs'));
    log('bench/subscriber.mjs');
    extras.push(await extraBench('subscriber.mjs'));
  }

  log(`real kernel trees (${REAL_TREES})`);
  const rt = await realTrees(REAL_TREES, spatchOk);

  // -------------------------------------------------------------------------------------------------------------
  // Report
  out(`## Benchmarks`);
  out();
  out(`Measured by \`npm run bench\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 10)}, commit ${commit || 'n/a'}. Every ratio compares two things measured in the same run.`);
  out();
  out(`| environment | |`);
  out(`|---|---|`);
  out(`| Node | ${process.version} |`);
  out(`| CPU | ${cpus.length} x ${cpus[0]?.model?.trim() ?? '?'} (available parallelism ${os.availableParallelism?.() ?? cpus.length}) |`);
  out(`| RAM | ${(os.totalmem() / 2 ** 30).toFixed(1)} GB |`);
  out(`| spatch | ${spatchV || 'not installed'} |`);
  out(`| load average (1/5/15 min) | at start ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')} (other work on the machine makes times noisy) |`);
  out(`| kernel trees | linux-source-6.1: ${allFiles.length} .c/.h files, ${(treeBytes / 2 ** 20).toFixed(0)} MB (mm/: ${mmFiles.length} files, ${(mmBytes / 2 ** 20).toFixed(1)} MB); linux-source-6.12: ${tree612 ? 'yes' : tree612Error} |`);
  out(`| repetitions | CLI and spatch on memory.c and mm/: median of ${REPS} after a warm-up, ours and spatch interleaved; our CLI on the whole tree: median of ${REPS}; spatch on the whole tree: 1 run per rule; in-process: median of ${INPROC_RUNS} after two warm-ups, bare and full interleaved |`);
  out();

  // Headline
  const c1 = (label, jobs = 2) => cli[`${label}|${jobs}`];
  const spSum = (label) => {
    const a = sp[`${label}|${RULE1}`];
    const b = sp[`${label}|${RULE2}`];
    if (!a || !b || a.error || b.error) return undefined;
    return a.ms + b.ms;
  };
  const pre = inproc.sets?.prefiltered;
  const allSet = inproc.sets?.all;
  const wt = c1('whole tree');
  const mem = c1('mm/memory.c');
  out(`### Targets`);
  out();
  out(`| target | measured | baseline (same run) | ratio | goal | |`);
  out(`|---|---|---|---|---|---|`);
  if (pre) out(`| in-process analysis of the files the engine parses (mm/, ${pre.files} files) vs bare tree-sitter parse of the same files | ${fmtMs(pre.fullMs)} | ${fmtMs(pre.bareMs)} | ${fmtX(pre.ratio)} | <= 1.5x | ${verdict(pre.ratio <= 1.5)} |`);
  else out(`| in-process analysis vs bare parse | ${inproc.error} | | | <= 1.5x | |`);
  if (wt && !wt.error) {
    const s = spSum('whole tree');
    out(`| whole 6.1 tree, both rules, CLI --jobs 2 vs spatch (2 rules, -j 2) | ${fmtMs(wt.ms)} | ${s ? fmtMs(s) : spatchWhy} | ${s ? fmtFaster(s, wt.ms) : 'n/a'} | >= 5x faster | ${s ? verdict(s / wt.ms >= 5) : ''} |`);
    out(`| whole 6.1 tree wall time, CLI --jobs 2 | ${fmtMs(wt.ms)} | (absolute goal of the issue) | | < 5 s | ${verdict(wt.ms < 5000)} |`);
  }
  if (mem && !mem.error) {
    const s = spSum('mm/memory.c');
    out(`| mm/memory.c, one-file run with start-up, CLI vs spatch (2 rules) | ${fmtMs(mem.ms)} | ${s ? fmtMs(s) : spatchWhy} | ${s ? fmtFaster(s, mem.ms) : 'n/a'} | >= 5x faster | ${s ? verdict(s / mem.ms >= 5) : ''} |`);
  }
  const mm2 = c1('mm/');
  if (mm2 && !mm2.error) {
    const s = spSum('mm/');
    // The issue asks for spatch's numbers on mm/ but sets no target there (its targets: in-process ratio, whole
    // tree, mm/memory.c, RSS): shown for reference.
    out(`| mm/, CLI --jobs 2 vs spatch (2 rules, -j 2) | ${fmtMs(mm2.ms)} | ${s ? fmtMs(s) : spatchWhy} | ${s ? fmtFaster(s, mm2.ms) : 'n/a'} | (reference: no target in the issue) | |`);
  }
  const peak = Math.max(...Object.values(cli).map((r) => r.rssKb ?? 0));
  out(`| peak RSS of any CLI run on 6.1 | ${fmtMB(peak)} | | | < 400 MB | ${verdict(peak > 0 ? peak < 400 * 1024 : undefined)} |`);
  out();

  // 1. in-process detail
  out(`### 1. Bare tree-sitter parse vs full analysis, in process (mm/ of 6.1)`);
  out();
  if (inproc.error) out(`Not measured: ${inproc.error}`);
  else {
    out(`The pre-filter (the CLI's own \`audit()\`, recorded) handed ${inproc.candidates} of ${mmFiles.length} files to the engine; the engine parsed ${pre.files} of them. "Full analysis" = \`new Project\` + \`setFile\` of the set + \`analyze()\` + \`dispose()\` (the engine's parse includes the kernel pre-pass); "bare parse" = \`parser.parseRaw(text).delete()\` per file.`);
    out();
    out(`| file set | files | MB | bare parse | full analysis | ratio | of which engine parse (pre-pass + tree-sitter) | files the engine parsed | functions analysed | findings |`);
    out(`|---|---|---|---|---|---|---|---|---|---|`);
    for (const [name, label] of [['prefiltered', 'pre-filtered (what the engine parses)'], ['all', 'all .c/.h files of mm/']]) {
      const s = inproc.sets[name];
      out(`| ${label} | ${s.files} | ${(s.bytes / 2 ** 20).toFixed(2)} | ${fmtMs(s.bareMs)} | ${fmtMs(s.fullMs)} | ${fmtX(s.ratio)} | ${fmtMs(s.instrumented.parseMs)} (${((100 * s.instrumented.parseMs) / s.instrumented.totalMs).toFixed(0)}%, ${s.instrumented.parseCalls} parses) | ${s.engineParsed} | ${s.functions} | ${s.findings} |`);
    }
    out();
    out(`What the pre-filter saves: analysing mm/ costs ${fmtMs(pre.fullMs)} against ${fmtMs(allSet.bareMs)} for a bare parse of every file of mm/ (${fmtX(pre.fullMs / allSet.bareMs)}); handing all ${allSet.files} files to the engine costs ${fmtMs(allSet.fullMs)} (${fmtX(allSet.ratio)} of their bare parse). Peak RSS of this process: ${fmtMB(ip.rssKb)}.`);
  }
  out();

  // 2. CLI
  out(`### 2. CLI throughput on linux-source-6.1 (wall time with process start-up)`);
  out();
  out(`\`node bin/notifier-audit.js --format json --jobs N <target>\`, run from the tree's root. Files/s and MB/s count every .c/.h file walked (the pre-filter decides which are parsed). Phases from \`NOTIFIER_AUDIT_STATS=1\` (walk = directory walk, scan = read + pre-filter, analyze = parser start + parse + analysis).`);
  out();
  out(`| target | --jobs | wall | files | files/s | MB/s | peak RSS | walk | scan | analyze | parsed | functions | findings (${RULE1} / ${RULE2} / other) |`);
  out(`|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
  for (const t of targets) {
    for (const jobs of [1, 2]) {
      const r = cli[`${t.label}|${jobs}`];
      if (r.error) {
        out(`| ${t.label} | ${jobs} | ${r.error} |||||||||||`);
        continue;
      }
      const st = r.stats ?? {};
      const other = r.findings.length - (r.byRule[RULE1] ?? 0) - (r.byRule[RULE2] ?? 0);
      out(`| ${t.label} | ${jobs} | ${fmtMs(r.ms)} | ${r.filesScanned} | ${(r.filesScanned / (r.ms / 1000)).toFixed(0)} | ${(t.bytes / 2 ** 20 / (r.ms / 1000)).toFixed(1)} | ${fmtMB(r.rssKb)} | ${st.walkMs ?? '?'} ms | ${st.scanMs ?? '?'} ms | ${st.analyzeMs ?? '?'} ms | ${st.parsed ?? '?'} | ${st.functions ?? '?'} | ${r.findings.length} (${r.byRule[RULE1] ?? 0} / ${r.byRule[RULE2] ?? 0} / ${other}) |`);
    }
  }
  out();

  // 3. spatch
  out(`### 3. Ours vs spatch (Coccinelle) on the same targets`);
  out();
  if (!spatchOk) out(`spatch not measured: ${spatchWhy}.`);
  else {
    out(`spatch: \`spatch --sp-file bench/cocci/<rule>.cocci <file | --dir D -j 2> --no-includes --very-quiet --use-coccigrep\`, one process per rule (ours checks both rules in one process). Reports: ours = findings; spatch = distinct matched lines. Ours = CLI --jobs 2, same numbers as above.`);
    out();
    out(`| target | ours (both rules) | spatch ${RULE1} | spatch ${RULE2} | spatch total | ours vs spatch | peak RSS ours / spatch | reports ours (${RULE1} / ${RULE2}) | reports spatch (${RULE1} / ${RULE2}) |`);
    out(`|---|---|---|---|---|---|---|---|---|`);
    for (const t of targets) {
      const o = c1(t.label);
      const a = sp[`${t.label}|${RULE1}`];
      const b = sp[`${t.label}|${RULE2}`];
      const cell = (x) => (x.error ? x.error : fmtMs(x.ms));
      const s = spSum(t.label);
      const rssSp = Math.max(a.rssKb ?? 0, b.rssKb ?? 0);
      out(`| ${t.label} | ${o.error ?? fmtMs(o.ms)} | ${cell(a)} | ${cell(b)} | ${s ? fmtMs(s) : 'n/a'} | ${s && !o.error ? fmtFaster(s, o.ms) : 'n/a'} | ${fmtMB(o.rssKb)} / ${fmtMB(rssSp)} | ${o.error ? '' : `${o.byRule[RULE1] ?? 0} / ${o.byRule[RULE2] ?? 0}`} | ${a.error ? '?' : a.matches.length} / ${b.error ? '?' : b.matches.length} |`);
    }
    out();
    // Where the reports differ on the whole tree
    const o = c1('whole tree');
    const a = sp[`whole tree|${RULE1}`];
    const b = sp[`whole tree|${RULE2}`];
    if (o && !o.error && a && b && !a.error && !b.error) {
      const ourSet = new Set(o.findings.map((f) => `${f.rule}:${relative(tree61, f.file).split('\\').join('/')}:${f.line}`));
      const theirs = new Set([...a.matches, ...b.matches]);
      const lines = [...new Set([...ourSet, ...theirs])].sort();
      if (lines.length) {
        out(`Reports on the whole 6.1 tree (rule:file:line):`);
        out();
        out(`| report | ours | spatch |`);
        out(`|---|---|---|`);
        for (const l of lines.slice(0, 60)) out(`| ${l} | ${ourSet.has(l) ? 'yes' : '-'} | ${theirs.has(l) ? 'yes' : '-'} |`);
        if (lines.length > 60) out(`| ... ${lines.length - 60} more | | |`);
        out();
      }
    }
  }
  // Fixture agreement
  out(`#### Fixture agreement (test/fixtures/rules, each with its own kernel-version; spatch has no version model)`);
  out();
  for (const n of fixtures.spatchNote) out(`- ${n}`);
  out(`| fixture | version | expected | ours | spatch (${RULE1}.cocci + ${RULE2}.cocci) | ours = expected | spatch = expected |`);
  out(`|---|---|---|---|---|---|---|`);
  let oursOk = 0;
  let spOk = 0;
  const relevant = (x) => x.startsWith(RULE1) || x.startsWith(RULE2);
  for (const r of fixtures.rows) {
    const expKey = r.expected.join(',');
    const okOurs = r.ours.join(',') === expKey;
    // spatch only implements the two rules and has no suppression comments: compare against those expectations.
    const exp2 = r.expected.filter((x) => relevant(x) && !x.endsWith('(suppressed)')).sort();
    const okSp = spatchOk ? [...r.spatch].sort().join(',') === exp2.join(',') : undefined;
    if (okOurs) oursOk++;
    if (okSp) spOk++;
    const j = (xs) => (xs.length ? xs.join(', ') : '-');
    out(`| ${r.file} | ${r.version} | ${j(r.expected)} | ${j(r.ours)} | ${spatchOk ? j(r.spatch) : 'n/a'} | ${okOurs ? 'yes' : '**no**'} | ${spatchOk ? (okSp ? 'yes' : '**no**') : 'n/a'} |`);
  }
  out();
  out(`Agreement with the written expectations: ours ${oursOk}/${fixtures.rows.length} fixtures${spatchOk ? `, spatch ${spOk}/${fixtures.rows.length} (for spatch, range-imbalance and suppressed expectations are left out)` : ''}.`);
  out();

  // 4. extras
  if (extras.length) {
    out(`### 4. Simulator and language-server benchmarks (their own output)`);
    out();
    for (const x of extras) {
      out(`#### bench/${x.name}`);
      out();
      if (x.missing) out(`Not present in this checkout.`);
      else if (x.timedOut || x.code !== 0) {
        out(`Failed (${x.timedOut ? 'killed after 5 minutes' : `exit ${x.code}`}, ${fmtMs(x.ms)}). Last lines of its stderr:`);
        out();
        out('```');
        out(x.stderr.split('\n').slice(-8).join('\n') || '(none)');
        out('```');
        if (x.stdout) {
          out();
          out('```');
          out(x.stdout);
          out('```');
        }
      } else if (!x.stdout) out('(no output)');
      else if (/^\s*[|#]/.test(x.stdout)) out(x.stdout); // already Markdown
      else {
        out(`Run time ${fmtMs(x.ms)}, output:`);
        out();
        out('```');
        out(x.stdout);
        out('```');
      }
      out();
    }
  }
  // 5. 6.12
  out(`### 5. linux-source-6.12 (no set_pte_at_notify any more: ${RULE1} must be silent)`);
  out();
  if (!tree612) out(`Not measured: ${tree612Error}.`);
  else {
    out(`| target | --jobs | wall | files | files/s | peak RSS | walk / scan / analyze | kernel version used | findings (${RULE1} / ${RULE2} / other) | incomplete |`);
    out(`|---|---|---|---|---|---|---|---|---|---|`);
    for (const [label, r] of Object.entries(cli612)) {
      if (r.error) {
        out(`| ${label} | 2 | ${r.error} ||||||||`);
        continue;
      }
      const st = r.stats ?? {};
      const other = r.findings.length - (r.byRule[RULE1] ?? 0) - (r.byRule[RULE2] ?? 0);
      out(`| ${label} | 2 | ${fmtMs(r.ms)} | ${r.filesScanned} | ${(r.filesScanned / (r.ms / 1000)).toFixed(0)} | ${fmtMB(r.rssKb)} | ${st.walkMs ?? '?'} / ${st.scanMs ?? '?'} / ${st.analyzeMs ?? '?'} ms | ${r.kernelVersion} | ${r.findings.length} (${r.byRule[RULE1] ?? 0} / ${r.byRule[RULE2] ?? 0} / ${other}) | ${r.incomplete} |`);
    }
    const w = cli612['whole tree'];
    if (w && !w.error && w.findings.length) {
      out();
      out(`Findings on 6.12:`);
      out();
      for (const f of w.findings.slice(0, 30)) out(`- ${f.rule} ${relative(tree612, f.file)}:${f.line} in ${f.function}: ${f.message}`);
    }
  }
  out();
  if (rt) realTreesSection(out, rt, spatchOk ? '' : 'n/a');

  out(`_Benchmark wall time: ${((Date.now() - started) / 1000).toFixed(0)} s._`);

  const text = md.join('\n') + '\n';
  writeFileSync(join(ROOT, 'bench/results.md'), text);
  process.stdout.write(text);
}

if (argv[0] === '--inprocess') {
  inProcessChild(argv[1], argv[2], Number(argv[3] ?? 5)).catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exitCode = 1;
  });
} else if (argv.includes('--real-trees-only')) {
  const md = [];
  const spatchOk = !argv.includes('--skip-spatch') && have('spatch');
  realTrees(REAL_TREES, spatchOk).then(
    (rt) => {
      if (rt) realTreesSection((s = '') => md.push(s), rt, spatchOk ? '' : 'n/a');
      process.stdout.write(rt ? md.join('\n') + '\n' : `No kernel trees at ${REAL_TREES}.\n`);
    },
    (e) => {
      process.stderr.write(`[bench] failed: ${e.stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
} else {
  main().catch((e) => {
    process.stderr.write(`[bench] failed: ${e.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
