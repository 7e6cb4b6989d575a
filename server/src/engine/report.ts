// The report phase of an analysis: findings of every rule (mm side and subscriber side) pass through one collector
// that drops disabled rules and duplicates, applies in-source suppressions and the configured severities, and sorts.
import { findSuppression } from './suppress';
import type { Settings } from '../config';
import type { Finding } from './types';

export class FindingCollector {
  readonly findings: Finding[] = [];
  readonly suppressed: Finding[] = [];
  private readonly seen = new Set<string>();
  private readonly linesOf = new Map<string, string[]>();
  private readonly enabled: Set<string>;

  constructor(private readonly settings: Settings, private readonly textOf: (file: string) => string | undefined) {
    this.enabled = new Set(settings.enabledRules);
  }

  isEnabled(rule: string): boolean {
    return this.enabled.has(rule);
  }

  get enabledRules(): Set<string> {
    return this.enabled;
  }

  /** `downgrade`: the rule says the code was correct by design in this version (a warning at most). */
  accept(f: Finding, downgrade?: boolean): void {
    if (!this.enabled.has(f.rule)) return;
    const k = `${f.rule}\0${f.file}\0${f.line}\0${f.column}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    let lines = this.linesOf.get(f.file);
    if (!lines) this.linesOf.set(f.file, (lines = (this.textOf(f.file) ?? '').split('\n')));
    const sup = findSuppression(lines, f.line, f.rule);
    // A hint is the rule saying "deliberate": the configured level does not apply to it.
    let severity = f.severity === 'hint' ? 'hint' : this.settings.severity[f.rule] ?? f.severity;
    if (downgrade && severity === 'error') severity = 'warning';
    const out = { ...f, severity };
    if (sup) this.suppressed.push({ ...out, suppressedReason: sup.reason || '(no reason given)' });
    else this.findings.push(out);
  }

  /** Sorted by file, line, column and rule. */
  done(): { findings: Finding[]; suppressed: Finding[] } {
    const order = (a: Finding, b: Finding): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : 1));
    return { findings: this.findings.sort(order), suppressed: this.suppressed.sort(order) };
  }
}
