// Output formats of the CLI: text for people, JSON for scripts, SARIF 2.1.0 for GitHub code scanning.
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditResult, Finding } from '../engine/types';
import type { SkipReason } from '../engine/files';
import { RULES } from '../rules';

/** A file that was not analysed, and why (JSON `skipped`; counted in the text summary). */
export interface Skipped {
  file: string;
  reason: SkipReason;
  message: string;
}

/** The --diff resolution, as reported in JSON. */
export interface DiffReport {
  strip: number;
  matched: string[];
  unmatched: string[];
  deleted: string[];
}

/** What the formats print: the audit result, the skipped files and (with --diff) how the diff resolved. */
export type Report = AuditResult & { skipped: Skipped[]; diff?: DiffReport };

/** How file paths are printed: as the user gave them, else relative to the tree root; `root` is SARIF's SRCROOT. */
export interface PathStyle {
  display(file: string): string;
  /** Absolute directory the SARIF URIs are relative to. */
  root: string;
}

const inside = (dir: string, file: string): string | undefined => {
  if (file === dir) return '';
  const r = relative(dir, file);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : undefined;
};

/**
 * Paths as given: a file under a path argument is that argument joined with the rest (the longest argument wins);
 * any other file is relative to its kernel tree root, else to the current directory when under it, else absolute.
 * Never "../.." from the current directory unless the argument itself was written so.
 */
export function pathStyle(args: Array<{ given: string; abs: string; dir: boolean }>, roots: string[], cwd: string): PathStyle {
  const byLength = [...args].sort((a, b) => b.abs.length - a.abs.length);
  const display = (file: string): string => {
    if (!file) return file;
    for (const a of byLength) {
      const r = inside(a.abs, file);
      if (r === undefined) continue;
      if (r === '') return a.given;
      return a.given === '.' || a.given === `.${sep}` ? r : join(a.given, r);
    }
    for (const root of roots) {
      const r = inside(root, file);
      if (r) return r;
    }
    const r = inside(cwd, file);
    return r || file;
  };
  // SRCROOT: the kernel tree of the first argument; else the current directory when it holds every argument; else
  // the first argument's directory.
  const first = args[0];
  const root = roots[0] ?? (!first || args.every((a) => inside(cwd, a.abs) !== undefined) ? cwd : first.dir ? first.abs : dirname(first.abs));
  return { display, root };
}

const REASON_LABEL: Record<SkipReason, string> = { binary: 'binary', 'too-big': 'too big', undecodable: 'not decoded', unreadable: 'unreadable' };

export function formatText(r: Report, paths: PathStyle): string {
  const rel = (f: string): string => paths.display(f);
  const out: string[] = [];
  for (const f of r.findings) {
    out.push(`${rel(f.file)}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.rule}] in ${f.function}()`);
    for (const x of f.related) out.push(`    ${rel(x.file)}:${x.line}:${x.column}: note: ${x.message}`);
    const steps = f.path.filter((e) => e.event !== 'entry');
    if (steps.length) {
      out.push('    path:');
      for (const e of steps.slice(-40)) out.push(`      ${e.line}:${e.column} ${e.event}${e.detail ? ' ' + e.detail : ''}${e.via ? ` (via ${e.via})` : ''}`);
    }
  }
  const skippedAs = new Map(r.skipped.map((s) => [`${s.file}\0${s.message}`, s.reason]));
  for (const e of r.errors) {
    const reason = skippedAs.get(`${e.file}\0${e.message}`);
    const level = reason && reason !== 'unreadable' ? 'warning' : /^not valid UTF-8: analysed as Latin-1/.test(e.message) ? 'note' : 'error';
    out.push(`${rel(e.file) || 'notifier-audit'}: ${level}: ${e.message}`);
  }
  for (const i of r.incomplete) out.push(`${rel(i.file)}:${i.line}: note: analysis of ${i.function}() incomplete: ${i.reason}`);
  const sup = r.suppressed.length ? `, ${r.suppressed.length} suppressed` : '';
  let skipped = '';
  if (r.skipped.length) {
    const count = new Map<SkipReason, number>();
    for (const s of r.skipped) count.set(s.reason, (count.get(s.reason) ?? 0) + 1);
    skipped = `; ${r.skipped.length} file${r.skipped.length === 1 ? '' : 's'} skipped (${[...count].map(([k, n]) => `${n} ${REASON_LABEL[k]}`).join(', ')})`;
  }
  out.push(`${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}${sup} in ${r.filesScanned} file${r.filesScanned === 1 ? '' : 's'} (kernel ${r.kernelVersion})${skipped}`);
  return out.join('\n') + '\n';
}

export function formatJson(r: Report): string {
  const strip = (f: Finding): Finding => {
    const { fix: _fix, ...rest } = f;
    void _fix;
    return rest;
  };
  return JSON.stringify({ ...r, findings: r.findings.map(strip), suppressed: r.suppressed.map(strip) }, null, 2) + '\n';
}

const SARIF_LEVEL: Record<string, string> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

/** SARIF 2.1.0; artifact URIs are relative to SRCROOT (the audited tree's root), declared in originalUriBaseIds. */
export function formatSarif(r: Report, paths: PathStyle, executionSuccessful = true): string {
  const artifact = (f: string): object => {
    const rel = inside(paths.root, f);
    if (rel) return { uri: rel.split(sep).join('/'), uriBaseId: 'SRCROOT' };
    return { uri: isAbsolute(f) ? pathToFileURL(f).href : f };
  };
  const loc = (file: string, line: number, column: number, endLine?: number, endColumn?: number, message?: string): object => ({
    physicalLocation: {
      artifactLocation: artifact(file),
      region: { startLine: line, startColumn: column, ...(endLine ? { endLine, endColumn } : {}) },
    },
    ...(message ? { message: { text: message } } : {}),
  });
  const result = (f: Finding, suppressed: boolean): object => ({
    ruleId: f.rule,
    ruleIndex: RULES.findIndex((x) => x.meta.id === f.rule),
    level: SARIF_LEVEL[f.severity] ?? 'warning',
    message: { text: f.message },
    locations: [loc(f.file, f.line, f.column, f.endLine, f.endColumn)],
    relatedLocations: f.related.map((x, i) => ({ id: i, ...loc(x.file, x.line, x.column, undefined, undefined, x.message) })),
    codeFlows: f.path.length
      ? [{ threadFlows: [{ locations: f.path.map((e) => ({ location: loc(e.file, e.line, e.column, undefined, undefined, `${e.event}${e.detail ? ': ' + e.detail : ''}`) })) }] }]
      : undefined,
    partialFingerprints: { primaryLocationLineHash: `${f.rule}:${f.function}:${f.message.length}` },
    ...(suppressed ? { suppressions: [{ kind: 'inSource', justification: f.suppressedReason ?? '' }] } : {}),
  });
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'notifier-audit',
            version: r.version,
            informationUri: 'https://github.com/mmu-notifier-audit/mmu-notifier-audit',
            rules: RULES.map((x) => ({
              id: x.meta.id,
              name: x.meta.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
              shortDescription: { text: x.meta.title },
              fullDescription: { text: x.meta.help },
              help: { text: `${x.meta.help}\n\nIntroduced by: ${x.meta.introducedBy}\n\nLimits: ${x.meta.limits}` },
              defaultConfiguration: { level: x.meta.id === 'range-imbalance' ? 'warning' : 'error' },
            })),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: pathToFileURL(paths.root.endsWith(sep) ? paths.root : paths.root + sep).href } },
        invocations: [
          {
            executionSuccessful,
            toolExecutionNotifications: r.errors.map((e) => ({ level: 'warning', message: { text: `${paths.display(e.file) || 'notifier-audit'}: ${e.message}` } })),
          },
        ],
        properties: { kernelVersion: r.kernelVersion, filesScanned: r.filesScanned, skipped: r.skipped.length },
        results: [...r.findings.map((f) => result(f, false)), ...r.suppressed.map((f) => result(f, true))],
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
