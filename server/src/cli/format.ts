// Output formats of the CLI: text for people, JSON for scripts, SARIF 2.1.0 for GitHub code scanning.
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_SETTINGS } from '../config';
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
    if (f.detail) out.push(`    ${rel(f.file)}:${f.line}:${f.column}: note: ${f.detail}`);
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

const REPOSITORY = 'https://github.com/mmu-notifier-audit/mmu-notifier-audit';
/** A stable, checkout-independent page per rule (the LSP's codeDescription links point at pages written to a temp dir). */
const ruleHelpUri = (id: string): string => `${REPOSITORY}/blob/main/docs/rules/${id}.md`;
/**
 * GitHub code scanning's rule properties. Precision from the real-tree judgements (test/real-trees: no false finding of
 * the first two rules) and the rules' limits (range-imbalance understands only simple local flags and counters).
 */
const RULE_PROPERTIES: Record<string, { tags: string[]; precision: string }> = {
  'unbracketed-change-pte': { tags: ['correctness', 'memory-corruption', 'mmu-notifier', 'linux-kernel'], precision: 'high' },
  'notifier-under-ptl': { tags: ['correctness', 'concurrency', 'mmu-notifier', 'linux-kernel'], precision: 'high' },
  'range-imbalance': { tags: ['correctness', 'mmu-notifier', 'linux-kernel'], precision: 'medium' },
};

const sha = (parts: Array<string | number>): string => createHash('sha256').update(parts.join('\0')).digest('hex');
/** Whitespace-insensitive text of source code (re-indenting or re-wrapping a call keeps its fingerprint). */
const normalise = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Source lines of the audited files, read once (UTF-8, else Latin-1 as the engine decodes them); undefined when unreadable. */
function sourceLines(): (file: string) => string[] | undefined {
  const cache = new Map<string, string[] | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      let lines: string[] | undefined;
      try {
        const buf = readFileSync(file);
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
        } catch {
          text = buf.toString('latin1');
        }
        lines = text.split(/\r?\n/); // rows as tree-sitter counts them
      } catch {
        lines = undefined;
      }
      cache.set(file, lines);
    }
    return cache.get(file);
  };
}

/** The text of a finding's region (1-based columns, end exclusive), or undefined when the source is not at hand. */
function regionText(lines: string[] | undefined, f: Pick<Finding, 'line' | 'column' | 'endLine' | 'endColumn'>): string | undefined {
  const first = lines?.[f.line - 1];
  if (lines === undefined || first === undefined) return undefined;
  if (!f.endLine || f.endLine < f.line) return first.slice(f.column - 1);
  if (f.endLine === f.line) return first.slice(f.column - 1, f.endColumn - 1);
  const out = [first.slice(f.column - 1), ...lines.slice(f.line, f.endLine - 1)];
  const last = lines[f.endLine - 1];
  if (last !== undefined) out.push(last.slice(0, f.endColumn - 1));
  return out.join('\n');
}

/**
 * SARIF 2.1.0 for GitHub code scanning: artifact URIs relative to SRCROOT (the audited tree's root), declared in
 * originalUriBaseIds; full rule metadata; partialFingerprints that do not depend on line numbers, so an alert
 * survives code moving above it:
 * - primaryLocationLineHash: the rule, the function and the whitespace-normalised text of the flagged line, then
 *   ":n", the occurrence of that hash in the file (GitHub's own format);
 * - notifierAudit/v1: the rule, the SRCROOT-relative file, the function, the normalised text of the flagged call
 *   and its occurrence index among the same (rule, file, function, call) in file order.
 */
export function formatSarif(r: Report, paths: PathStyle, executionSuccessful = true): string {
  const artifact = (f: string): { uri: string; uriBaseId?: string } => {
    const rel = inside(paths.root, f);
    if (rel) return { uri: rel.split(sep).join('/'), uriBaseId: 'SRCROOT' };
    return { uri: isAbsolute(f) ? pathToFileURL(f).href : f.split(sep).join('/') };
  };
  const source = sourceLines();
  const loc = (file: string, line: number, column: number, endLine?: number, endColumn?: number, message?: string, snippet?: string): object => ({
    physicalLocation: {
      artifactLocation: artifact(file),
      region: {
        startLine: line,
        startColumn: column,
        ...(endLine ? { endLine, endColumn } : {}),
        ...(snippet !== undefined ? { snippet: { text: snippet } } : {}),
      },
    },
    ...(message ? { message: { text: message } } : {}),
  });

  // Fingerprints over every result (findings and suppressed ones), occurrences counted in file order.
  const all = [...r.findings.map((f) => ({ f, suppressed: false })), ...r.suppressed.map((f) => ({ f, suppressed: true }))];
  const ordered = [...all].sort((a, b) => (a.f.file < b.f.file ? -1 : a.f.file > b.f.file ? 1 : a.f.line - b.f.line || a.f.column - b.f.column));
  const fingerprints = new Map<Finding, { primaryLocationLineHash: string; 'notifierAudit/v1': string }>();
  const snippets = new Map<Finding, string | undefined>();
  const seenLine = new Map<string, number>();
  const seenCall = new Map<string, number>();
  for (const { f } of ordered) {
    const lines = source(f.file);
    const call = regionText(lines, f);
    snippets.set(f, call);
    const uri = artifact(f.file).uri;
    const lineHash = sha([f.rule, f.function, normalise(lines?.[f.line - 1] ?? f.message)]).slice(0, 16);
    const lineKey = `${uri}\0${lineHash}`;
    const lineOcc = (seenLine.get(lineKey) ?? 0) + 1;
    seenLine.set(lineKey, lineOcc);
    const callText = normalise(call ?? f.message);
    const callKey = [f.rule, uri, f.function, callText].join('\0');
    const callOcc = seenCall.get(callKey) ?? 0;
    seenCall.set(callKey, callOcc + 1);
    fingerprints.set(f, { primaryLocationLineHash: `${lineHash}:${lineOcc}`, 'notifierAudit/v1': sha([f.rule, uri, f.function, callText, callOcc]) });
  }

  const result = (f: Finding, suppressed: boolean): object => {
    const ruleIndex = RULES.findIndex((x) => x.meta.id === f.rule);
    const steps = f.path;
    return {
      ruleId: f.rule,
      ...(ruleIndex >= 0 ? { ruleIndex } : {}),
      level: SARIF_LEVEL[f.severity] ?? 'warning',
      message: { text: f.detail ? `${f.message}. ${f.detail}` : f.message },
      locations: [loc(f.file, f.line, f.column, f.endLine, f.endColumn, undefined, snippets.get(f))],
      relatedLocations: f.related.map((x, i) => ({ id: i, ...loc(x.file, x.line, x.column, undefined, undefined, x.message) })),
      ...(steps.length
        ? {
            codeFlows: [
              {
                message: { text: `path to the ${f.rule} finding in ${f.function}()` },
                threadFlows: [
                  {
                    locations: steps.map((e, i) => ({
                      location: loc(e.file, e.line, e.column, undefined, undefined, `${e.event}${e.detail ? ': ' + e.detail : ''}${e.via ? ` (via ${e.via})` : ''}`),
                      ...(i === steps.length - 1 ? { importance: 'essential' } : {}),
                    })),
                  },
                ],
              },
            ],
          }
        : {}),
      partialFingerprints: fingerprints.get(f),
      properties: { function: f.function },
      ...(suppressed ? { suppressions: [{ kind: 'inSource', justification: f.suppressedReason ?? '' }] } : {}),
    };
  };

  // Notifications at the levels the text output uses: a skipped file is a warning, a Latin-1 decode a note.
  const skippedAs = new Map(r.skipped.map((s) => [`${s.file}\0${s.message}`, s.reason]));
  const notifications = [
    ...r.errors.map((e) => {
      const reason = skippedAs.get(`${e.file}\0${e.message}`);
      const level = reason && reason !== 'unreadable' ? 'warning' : /^not valid UTF-8: analysed as Latin-1/.test(e.message) ? 'note' : 'error';
      return {
        level,
        message: { text: `${paths.display(e.file) || 'notifier-audit'}: ${e.message}` },
        ...(e.file ? { locations: [{ physicalLocation: { artifactLocation: artifact(e.file) } }] } : {}),
      };
    }),
    ...r.incomplete.map((i) => ({
      level: 'note',
      message: { text: `analysis of ${i.function}() incomplete: ${i.reason}` },
      locations: [loc(i.file, i.line, 1)],
    })),
  ];

  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'notifier-audit',
            fullName: `MMU Notifier Audit ${r.version}`,
            version: r.version,
            informationUri: REPOSITORY,
            rules: RULES.map((x) => {
              const m = x.meta;
              const props = RULE_PROPERTIES[m.id] ?? { tags: ['correctness'], precision: 'medium' };
              const level = DEFAULT_SETTINGS.severity[m.id] ?? 'warning';
              const suppress = `/* notifier-audit: ignore ${m.id} -- <reason> */`;
              return {
                id: m.id,
                name: m.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
                shortDescription: { text: m.title },
                fullDescription: { text: m.help },
                help: {
                  text:
                    `${m.help}\n\nIntroduced by: ${m.introducedBy}\n\nLimits: ${m.limits}\n\n` +
                    `Suppressing: put ${suppress} on the flagged line or the line above.`,
                  markdown:
                    `# ${m.id}: ${m.title}\n\n${m.help}\n\n## Introduced by\n\n${m.introducedBy}\n\n## Limits\n\n${m.limits}\n\n` +
                    `## Suppressing\n\nPut \`${suppress}\` on the flagged line or the line above.\n`,
                },
                helpUri: ruleHelpUri(m.id),
                defaultConfiguration: { level: SARIF_LEVEL[level] ?? 'warning' },
                properties: { tags: props.tags, precision: props.precision, 'problem.severity': level === 'error' ? 'error' : 'warning' },
              };
            }),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: pathToFileURL(paths.root.endsWith(sep) ? paths.root : paths.root + sep).href } },
        invocations: [{ executionSuccessful, toolExecutionNotifications: notifications }],
        properties: { kernelVersion: r.kernelVersion, filesScanned: r.filesScanned, skipped: r.skipped.length },
        results: all.map(({ f, suppressed }) => result(f, suppressed)),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
