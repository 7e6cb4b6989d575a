// Output formats of the CLI: text for people, JSON for scripts, SARIF 2.1.0 for GitHub code scanning.
import { relative } from 'node:path';
import type { AuditResult, Finding } from '../engine/types';
import { RULES } from '../rules';

export function formatText(r: AuditResult, cwd: string): string {
  const rel = (f: string): string => (f ? relative(cwd, f) || f : f);
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
  for (const e of r.errors) out.push(`${rel(e.file) || 'notifier-audit'}: error: ${e.message}`);
  for (const i of r.incomplete) out.push(`${rel(i.file)}:${i.line}: note: analysis of ${i.function}() incomplete: ${i.reason}`);
  const sup = r.suppressed.length ? `, ${r.suppressed.length} suppressed` : '';
  out.push(`${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}${sup} in ${r.filesScanned} file${r.filesScanned === 1 ? '' : 's'} (kernel ${r.kernelVersion})`);
  return out.join('\n') + '\n';
}

export function formatJson(r: AuditResult): string {
  const strip = (f: Finding): Finding => {
    const { fix: _fix, ...rest } = f;
    void _fix;
    return rest;
  };
  return JSON.stringify({ ...r, findings: r.findings.map(strip), suppressed: r.suppressed.map(strip) }, null, 2) + '\n';
}

const SARIF_LEVEL: Record<string, string> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

export function formatSarif(r: AuditResult, cwd: string): string {
  const uri = (f: string): string => relative(cwd, f).split('\\').join('/') || f;
  const loc = (file: string, line: number, column: number, endLine?: number, endColumn?: number, message?: string): object => ({
    physicalLocation: {
      artifactLocation: { uri: uri(file), uriBaseId: '%SRCROOT%' },
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
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: r.errors.map((e) => ({ level: 'warning', message: { text: `${e.file}: ${e.message}` } })),
          },
        ],
        properties: { kernelVersion: r.kernelVersion, filesScanned: r.filesScanned },
        results: [...r.findings.map((f) => result(f, false)), ...r.suppressed.map((f) => result(f, true))],
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
