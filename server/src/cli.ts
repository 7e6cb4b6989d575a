// The notifier-audit command line: audit files and trees, simulate a finding, or run the language server.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { normalizeSettings, type Settings } from './config';
import { audit, TOOL_VERSION } from './engine/audit';
import { formatJson, formatSarif, formatText } from './cli/format';
import { parseUnifiedDiff, rangesFor } from './cli/diff';
import { RULES } from './rules';

const USAGE = `usage: notifier-audit [options] <file|dir>...
       notifier-audit simulate <file>:<line> [--subscriber kvm|odp|sva|all] [--kernel-version X.Y] [--format text|json]
       notifier-audit lsp --stdio
       notifier-audit rules

Audits Linux kernel C for MMU-notifier misuse: set_pte_at_notify() outside an invalidate range,
and notifier calls that may sleep made under the page-table lock.

options:
  --format text|json|sarif   output format (default text)
  --kernel-version X.Y       kernel version semantics (default: the tree's Makefile; unknown = v3.7..v6.9)
  --config FILE              JSON settings (lockHelpers, unlockHelpers, notifiers, enabledRules, severity, exclude, maxFileSize)
  --diff FILE|-              report only findings in functions touched by this unified diff
  --jobs N                   worker threads for reading and pre-filtering files (default: CPU count)
  --output FILE              write the report to FILE instead of stdout
  -h, --help                 this help
  --version                  print the version

exit codes: 0 clean, 1 findings, 2 usage or I/O errors`;

class UsageError extends Error {}

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
        if (!/^v?\d+\.\d+(\.\d+)?$/.test(v)) throw new UsageError(`--kernel-version must look like 6.1 (got "${v}")`);
        o.kernelVersion = v.replace(/^v/, '');
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

function loadSettings(path: string | undefined, err: (m: string) => void): Settings {
  if (!path) return normalizeSettings(undefined).settings;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read config ${path}: ${(e as Error).message}`);
  }
  const { settings, problems } = normalizeSettings(raw);
  for (const p of problems) err(`notifier-audit: config ${path}: ${p}`);
  return settings;
}

function readDiff(spec: string): string {
  try {
    return readFileSync(spec === '-' ? 0 : spec, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read diff ${spec}: ${(e as Error).message}`);
  }
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
    if (o.paths.length === 0) throw new UsageError('no file or directory given');
    const settings = loadSettings(o.config, err);
    const changed = o.diff ? parseUnifiedDiff(readDiff(o.diff)) : undefined;
    const tty = process.stderr.isTTY;
    let lastProgress = 0;
    const result = await audit(o.paths.map((p) => resolve(p)), {
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
      touched: changed ? diffFilter(changed) : undefined,
    });
    if (tty && lastProgress) process.stderr.write('\r\x1b[K');
    const cwd = process.cwd();
    const text = o.format === 'json' ? formatJson(result) : o.format === 'sarif' ? formatSarif(result, cwd) : formatText(result, cwd);
    if (o.output) {
      require('node:fs').writeFileSync(o.output, text);
    } else process.stdout.write(text);
    if (process.env.NOTIFIER_AUDIT_STATS) err(`notifier-audit: stats ${JSON.stringify(result.stats)}`);
    if (o.format !== 'text') for (const e of result.errors) err(`notifier-audit: ${e.file ? e.file + ': ' : ''}${e.message}`);
    if (result.findings.length) return 1;
    return result.fatal ? 2 : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`notifier-audit: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

/** Keeps findings in functions whose extent the diff touches. */
function diffFilter(changed: ReturnType<typeof parseUnifiedDiff>): (file: string, startLine: number, endLine: number) => boolean {
  return (file, start, end) => {
    const ranges = rangesFor(changed, file);
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
