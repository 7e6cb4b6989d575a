// `notifier-audit simulate <file>:<line>`: finds the finding at that line and replays its witness path in the simulator.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { normalizeSettings } from '../config';
import { audit } from '../engine/audit';
import { findKernelTree } from '../kernel/version';
import { dirname } from 'node:path';
import { simulateFinding, renderTraceText } from '../../../simulator/src/index';

export async function runSimulateCommand(argv: string[], err: (m: string) => void): Promise<number> {
  let target: string | undefined;
  let subscriber: string | undefined;
  let kernelVersion: string | undefined;
  let format = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--subscriber') subscriber = argv[++i];
    else if (a === '--kernel-version') kernelVersion = argv[++i]?.replace(/^v/, '');
    else if (a === '--format') format = argv[++i] ?? '';
    else if (a.startsWith('-')) return usage(err, `unknown option ${a}`);
    else if (!target) target = a;
    else return usage(err, `unexpected argument ${a}`);
  }
  if (!target) return usage(err, 'missing <file>:<line>');
  const m = /^(.*):(\d+)$/.exec(target);
  if (!m) return usage(err, `expected <file>:<line>, got "${target}"`);
  if (subscriber && !['kvm', 'odp', 'sva', 'all'].includes(subscriber)) return usage(err, '--subscriber must be kvm, odp, sva or all');
  if (kernelVersion !== undefined && !/^\d+\.\d+(\.\d+)?$/.test(kernelVersion)) return usage(err, '--kernel-version must look like 6.1');
  if (format !== 'text' && format !== 'json') return usage(err, '--format must be text or json');
  const file = resolve(m[1]);
  const line = Number(m[2]);
  if (!existsSync(file)) {
    err(`notifier-audit simulate: no such file: ${m[1]}`);
    return 2;
  }
  // The file's whole tree is analysed, as the tree run does: a finding can depend on callers and callees in other
  // files (where an unbracketed change is reported, a lock a helper returns held).
  const tree = findKernelTree(file);
  let r = await audit([tree?.root ?? file], { settings: normalizeSettings(undefined).settings, kernelVersion, jobs: tree ? 2 : 1 });
  // Outside a kernel tree, a finding that needs the files next to it (a driver's callback in one file, the sleep in
  // another) is found by analysing the file's directory.
  if (!tree && !r.findings.some((f) => f.file === file && f.line === line) && !(r.errors.length && r.fatal)) {
    const dir = await audit([dirname(file)], { settings: normalizeSettings(undefined).settings, kernelVersion, jobs: 1 });
    if (dir.findings.some((f) => f.file === file && f.line === line)) r = dir;
  }
  if (r.errors.length && r.fatal) {
    for (const e of r.errors) err(`notifier-audit simulate: ${e.file}: ${e.message}`);
    return 2;
  }
  const here = r.findings.filter((f) => f.file === file && f.line === line);
  if (here.length === 0) {
    const list = r.findings.filter((f) => f.file === file).map((f) => `  ${m[1]}:${f.line}: [${f.rule}] in ${f.function}()`);
    err(`notifier-audit simulate: no finding at ${m[1]}:${line}.${list.length ? ` Findings in this file:\n${list.join('\n')}` : ' This file has no findings.'}`);
    return 2;
  }
  const finding = here[0];
  const version = kernelVersion ?? (/^(\d+\.\d+)/.exec(r.kernelVersion)?.[1]);
  const result = simulateFinding(finding, { subscriber: subscriber as 'kvm' | 'odp' | 'sva' | 'all' | undefined, kernelVersion: version });
  if (format === 'json') process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(`${finding.file}:${finding.line}: [${finding.rule}] ${finding.message}\n\n${renderTraceText(result)}\n`);
  return result.hazard ? 1 : 0;
}

function usage(err: (m: string) => void, msg: string): number {
  err(`notifier-audit simulate: ${msg}\nusage: notifier-audit simulate <file>:<line> [--subscriber kvm|odp|sva|all] [--kernel-version X.Y] [--format text|json]`);
  return 2;
}
