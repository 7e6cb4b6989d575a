// The notifier-audit command line: audit files and trees, simulate a finding, or run the language server.
import { accessSync, constants as fsConstants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { kernelVersionProblem, KERNEL_VERSION_RANGE, normalizeSettings, type Settings } from './config';
import { audit, TOOL_VERSION } from './engine/audit';
import { collectFiles, hasCFile, probeFile, skipReason } from './engine/files';
import type { FileError } from './engine/types';
import { findKernelTree } from './kernel/version';
import { formatJson, formatSarif, formatText, pathStyle, type DiffReport, type Report, type Skipped } from './cli/format';
import { parseUnifiedDiff, resolveDiff, stripLevels, stripPath, type DiffResolution } from './cli/diff';
import { RULES } from './rules';

const USAGE = `usage: notifier-audit [options] <file|dir>...
       notifier-audit simulate <file>:<line> [--subscriber kvm|odp|sva|all] [--kernel-version X.Y] [--format text|json]
       notifier-audit lsp --stdio
       notifier-audit rules

Audits Linux kernel C for MMU-notifier misuse: set_pte_at_notify() outside an invalidate range,
and notifier calls that may sleep made under the page-table lock.

options:
  --format text|json|sarif   output format (default text)
  --kernel-version X.Y       kernel version semantics, one of ${KERNEL_VERSION_RANGE}
                             (default: the tree's Makefile; unknown = v3.7..v6.9)
  --config FILE              JSON settings (lockHelpers, unlockHelpers, notifiers, enabledRules, severity, exclude, maxFileSize)
  --diff FILE|-              report only findings in functions touched by this unified diff (paths stripped
                             like git apply: -p1, else -p0, -p2...)
  --jobs N                   worker threads for reading and pre-filtering files (default: CPU count)
  --output FILE              write the report to FILE instead of stdout
  -h, --help                 this help
  --version                  print the version

exit codes: 0 clean, 1 findings, 2 the run cannot be trusted: a usage or config error, a path that does not
exist or holds no C file, a named file not analysed (too big, binary), a --diff that names no scanned file,
an unreadable file (when there is no finding) or a report that cannot be written`;

/** A bad command line; `usage` prints the usage text too (else one line pointing at --help). */
class UsageError extends Error {
  constructor(message: string, readonly usage = false) {
    super(message);
  }
}

/** Stops the run with exit code 2, one stderr line per entry. */
class ExitError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

interface CliOptions {
  format: 'text' | 'json' | 'sarif';
  kernelVersion?: string;
  config?: string;
  diff?: string;
  jobs?: number;
  output?: string;
  paths: string[];
  subscriber?: string;
}

function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = { format: 'text', paths: [] };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || (v.startsWith('--') && v !== '-')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const take = (name: string): string => {
      if (inline !== undefined) return inline;
      const v = value(i, name);
      i++;
      return v;
    };
    switch (a) {
      case '--format': {
        const f = take(a);
        if (f !== 'text' && f !== 'json' && f !== 'sarif') throw new UsageError(`--format must be text, json or sarif (got "${f}")`);
        o.format = f;
        break;
      }
      case '--kernel-version': {
        const v = take(a);
        const bad = kernelVersionProblem(v);
        if (bad) throw new UsageError(`--kernel-version: ${bad}`);
        o.kernelVersion = v.trim().replace(/^v/, '');
        break;
      }
      case '--config': o.config = take(a); break;
      case '--diff': o.diff = take(a); break;
      case '--output': case '-o': o.output = take(a); break;
      case '--subscriber': o.subscriber = take(a); break;
      case '--jobs': case '-j': {
        const n = Number(take(a));
        if (!Number.isInteger(n) || n < 1) throw new UsageError('--jobs must be a positive integer');
        o.jobs = n;
        break;
      }
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
        o.paths.push(argv[i]);
    }
  }
  return o;
}

/** Reads --config. Problems that change what is checked (an unknown rule, a bad version) stop the run; the rest warn. */
function loadSettings(path: string | undefined, err: (m: string) => void): Settings {
  if (!path) return normalizeSettings(undefined).settings;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ExitError([`cannot read config ${path}: ${(e as Error).message}`]);
  }
  const { settings, problems, errors } = normalizeSettings(raw);
  if (errors.length) throw new ExitError(errors.map((p) => `config ${path}: ${p}`));
  for (const p of problems) err(`notifier-audit: config ${path}: ${p}`);
  return settings;
}

function readDiff(spec: string): string {
  try {
    return readFileSync(spec === '-' ? 0 : spec, 'utf8');
  } catch (e) {
    throw new ExitError([`cannot read diff ${spec}: ${(e as Error).message}`]);
  }
}

/** --output must name a file in a directory that exists and can be written: checked before the analysis runs. */
function checkOutput(output: string): void {
  const file = resolve(output);
  const stat = (p: string): ReturnType<typeof statSync> | undefined => {
    try {
      return statSync(p);
    } catch {
      return undefined;
    }
  };
  const writable = (p: string): boolean => {
    try {
      accessSync(p, fsConstants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  const st = stat(file);
  const dir = dirname(file);
  const why = st?.isDirectory() ? 'it is a directory'
    : st ? (writable(file) ? undefined : 'the file is not writable')
    : !stat(dir)?.isDirectory() ? `directory ${dirname(output)} does not exist`
    : !writable(dir) ? `directory ${dirname(output)} is not writable` : undefined;
  if (why) throw new ExitError([`cannot write the report to ${output}: ${why}`]);
}

/** A path argument and what it names. */
interface PathArg {
  given: string;
  abs: string;
  kind: 'file' | 'dir' | 'missing';
}

function classifyPaths(paths: string[]): PathArg[] {
  return paths.map((given) => {
    const abs = resolve(given);
    try {
      return { given, abs, kind: statSync(abs).isDirectory() ? 'dir' : 'file' };
    } catch {
      return { given, abs, kind: 'missing' };
    }
  });
}

const list = (xs: string[], max = 8): string => (xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`);

/**
 * Resolves --diff against the files the run scans. Throws ExitError when the diff is empty or not a diff, or when
 * none of its files is scanned and some of them exist nowhere (wrong -p prefixes, a diff of another tree). A diff
 * whose every file exists but lies outside the audit (not C, excluded, another directory) has nothing to check: said
 * on stderr, the run goes on and keeps no finding.
 */
function diffScope(spec: string, args: PathArg[], settings: Settings, err: (m: string) => void): { resolution: DiffResolution; report: DiffReport } {
  const text = readDiff(spec);
  const name = spec === '-' ? 'on stdin' : spec;
  if (!text.trim()) throw new ExitError([`--diff ${name} is empty: no file to check (an empty patch cannot be audited)`]);
  const parsed = parseUnifiedDiff(text);
  if (!parsed.files.length) throw new ExitError([`--diff ${name} is not a unified diff: no "--- a/file" / "+++ b/file" header found`]);
  const { files } = collectFiles(args.map((a) => a.abs), settings.exclude);
  const r = resolveDiff(parsed, files);
  const report: DiffReport = { strip: r.level, matched: r.matched, unmatched: r.unmatched, deleted: r.deleted };
  const live = parsed.files.filter((f) => !f.deleted);
  if (r.matched.length) {
    err(`notifier-audit: --diff ${name} (-p${r.level}): ${r.matched.length} of ${live.length} file${live.length === 1 ? '' : 's'} audited: ${list(r.matched)}` +
      (r.unmatched.length ? `; not audited: ${list(r.unmatched)}` : ''));
    return { resolution: r, report };
  }
  // Nothing scanned: is every file of the diff at least a real file (then the patch is simply outside the audit)?
  const bases = new Set<string>([process.cwd()]);
  for (const a of args) {
    for (let d = a.kind === 'dir' ? a.abs : dirname(a.abs); ; d = dirname(d)) {
      bases.add(d);
      if (dirname(d) === d) break;
    }
  }
  const levels = stripLevels(live);
  /** The path stripped at the first level where it names an existing file, else undefined. */
  const found = (p: string): string | undefined => {
    for (const l of levels) {
      const c = stripPath(p, l);
      if (c !== undefined && [...bases].some((b) => existsSync(resolve(b, c)))) return c;
    }
    return undefined;
  };
  const onDisk = live.map((f) => found(f.path));
  const missing = live.filter((_f, i) => onDisk[i] === undefined).map((f) => f.path);
  if (missing.length) {
    throw new ExitError([`--diff ${name} names no scanned file: ${list(missing)} ${missing.length === 1 ? 'is' : 'are'} not found under ${list(args.map((a) => a.given), 3)} ` +
      `(tried -p${levels.join(', -p')}; ${files.length} C file${files.length === 1 ? '' : 's'} scanned)`]);
  }
  err(`notifier-audit: --diff ${name}: none of its ${live.length || parsed.files.length} file${(live.length || parsed.files.length) === 1 ? '' : 's'} is audited ` +
    `(${live.length ? `${list(onDisk as string[])}: not C, excluded or outside ${list(args.map((a) => a.given), 3)}` : 'the patch only deletes files'}); nothing to check`);
  return { resolution: r, report };
}

export async function main(argv: string[]): Promise<number> {
  const err = (m: string): void => {
    process.stderr.write(m + '\n');
  };
  try {
    if (argv[0] === 'lsp') {
      // The language server is its own bundle (dist/server.js): the audit path does not pay for loading it.
      const { startServer } = loadSibling('server.js') as typeof import('./server');
      startServer();
      return await new Promise<number>(() => undefined);
    }
    if (argv[0] === 'simulate') return await simulateCommand(argv.slice(1), err);
    if (argv[0] === 'rules') {
      for (const r of RULES) process.stdout.write(`${r.meta.id}: ${r.meta.title}\n  ${r.meta.help}\n  introduced by: ${r.meta.introducedBy}\n  limits: ${r.meta.limits}\n\n`);
      return 0;
    }
    if (argv.includes('-h') || argv.includes('--help')) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    if (argv.includes('--version')) {
      process.stdout.write(`notifier-audit ${TOOL_VERSION}\n`);
      return 0;
    }
    const o = parseArgs(argv);
    if (o.paths.length === 0) throw new UsageError('no file or directory given', true);
    if (o.output) checkOutput(o.output);
    const settings = loadSettings(o.config, err);
    return await auditCommand(o, settings, err);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`notifier-audit: ${e.message}${e.usage ? `\n${USAGE}` : ' (see notifier-audit --help)'}`);
      return 2;
    }
    if (e instanceof ExitError) {
      for (const l of e.lines) err(`notifier-audit: error: ${l}`);
      return 2;
    }
    throw e;
  }
}

async function auditCommand(o: CliOptions, settings: Settings, err: (m: string) => void): Promise<number> {
  // Path arguments first: each one that names nothing to audit is an error of its own (exit 2 even when the others
  // have findings); the rest are still audited and reported.
  const args = classifyPaths(o.paths);
  const failures: string[] = [];
  const argErrors: FileError[] = [];
  const skipped: Skipped[] = [];
  const usable: PathArg[] = [];
  for (const a of args) {
    if (a.kind === 'missing') {
      failures.push(`${a.given}: no such file or directory`);
      argErrors.push({ file: a.abs, message: 'no such file or directory' });
    } else if (a.kind === 'dir') {
      if (hasCFile(a.abs, settings.exclude)) usable.push(a);
      else {
        const why = `no C file (.c or .h) found${settings.exclude.length ? ' outside the exclude patterns' : ''}`;
        failures.push(`${a.given}: ${why}`);
        argErrors.push({ file: a.abs, message: why });
      }
    } else {
      // An explicitly named file is analysed or the run fails: too big, binary, UTF-16 or unreadable is exit 2.
      const p = probeFile(a.abs, settings.maxFileSize);
      if (!p) usable.push(a);
      else {
        failures.push(`${a.given}: ${p.message}`);
        argErrors.push({ file: a.abs, message: p.message });
        const reason = skipReason(p.message);
        if (reason) skipped.push({ file: a.abs, reason, message: p.message });
      }
    }
  }
  if (!usable.length) throw new ExitError(failures);
  const scope = o.diff ? diffScope(o.diff, usable, settings, err) : undefined;
  const tty = process.stderr.isTTY;
  let lastProgress = 0;
  const result = await audit(usable.map((a) => a.abs), {
    settings,
    kernelVersion: o.kernelVersion,
    jobs: o.jobs ?? Math.max(1, Math.min(require('node:os').availableParallelism?.() ?? 2, 8)),
    progress: tty
      ? (done, total) => {
          const now = Date.now();
          if (now - lastProgress < 200) return;
          lastProgress = now;
          process.stderr.write(`\rnotifier-audit: ${done}/${total} files`);
        }
      : undefined,
    touched: scope ? diffFilter(scope.resolution) : undefined,
  });
  if (tty && lastProgress) process.stderr.write('\r\x1b[K');
  if (result.filesScanned === 0) failures.push(`no C file found in ${list(usable.map((a) => a.given), 3)}`);
  for (const e of result.errors) {
    const reason = skipReason(e.message);
    if (reason && !skipped.some((s) => s.file === e.file)) skipped.push({ file: e.file, reason, message: e.message });
  }
  const seen = new Set<string>();
  const errors = [...argErrors, ...result.errors].filter((e) => !seen.has(`${e.file}\0${e.message}`) && !!seen.add(`${e.file}\0${e.message}`));
  const report: Report = { ...result, errors, skipped, ...(scope ? { diff: scope.report } : {}) };
  // Hints (a deliberate pattern the rule names, like a dropped interval sequence) do not fail a CI run.
  const code = failures.length ? 2 : result.findings.some((f) => f.severity !== 'hint') ? 1 : result.fatal ? 2 : 0;
  const roots = [...new Set(usable.map((a) => findKernelTree(a.abs)?.root).filter((r): r is string => !!r))];
  const paths = pathStyle(usable.map((a) => ({ given: a.given, abs: a.abs, dir: a.kind === 'dir' })), roots, process.cwd());
  const text = o.format === 'json' ? formatJson(report) : o.format === 'sarif' ? formatSarif(report, paths, code !== 2) : formatText(report, paths);
  if (o.output) {
    try {
      writeFileSync(o.output, text);
    } catch (e) {
      failures.push(`cannot write the report to ${o.output}: ${(e as Error).message}`);
    }
  } else process.stdout.write(text);
  if (process.env.NOTIFIER_AUDIT_STATS) err(`notifier-audit: stats ${JSON.stringify(result.stats)}`);
  if (o.format !== 'text') for (const e of result.errors) err(`notifier-audit: ${e.file ? paths.display(e.file) + ': ' : ''}${e.message}`);
  for (const f of failures) err(`notifier-audit: error: ${f}`);
  return failures.length ? 2 : code;
}

/** Keeps findings in functions whose extent the diff touches. */
function diffFilter(r: DiffResolution): (file: string, startLine: number, endLine: number) => boolean {
  return (file, start, end) => {
    const ranges = r.ranges.get(file.split('\\').join('/'));
    return !!ranges && ranges.some(([a, b]) => a <= end && b >= start);
  };
}

async function simulateCommand(argv: string[], err: (m: string) => void): Promise<number> {
  const { runSimulateCommand } = loadSibling('simulate.js') as typeof import('./cli/simulate');
  try {
    return await runSimulateCommand(argv, err);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`notifier-audit simulate: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

/** Loads another bundle next to this one at run time (kept out of this bundle so start-up stays lean). */
function loadSibling(name: string): unknown {
  const path = require('node:path').join(__dirname, name);
  return require(path);
}

export { UsageError };
