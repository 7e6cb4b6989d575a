// Inline suppressions: `/* notifier-audit: ignore <rule-id>[,<rule-id>] -- reason */` on the flagged line or the line above.
const RE = /notifier-audit:\s*ignore\s+([\w,\s*-]+?)\s*(?:--\s*(.*?))?\s*(?:\*\/|$)/;

export interface Suppression {
  rules: string[];
  reason: string;
}

/** The suppression that applies to `rule` at 1-based `line`, if any. */
export function findSuppression(lines: string[], line: number, rule: string): Suppression | undefined {
  for (const l of [line, line - 1]) {
    const text = lines[l - 1];
    if (!text || !text.includes('notifier-audit')) continue;
    const m = RE.exec(text);
    if (!m) continue;
    const rules = m[1].split(/[\s,]+/).filter(Boolean);
    if (rules.includes(rule) || rules.includes('all') || rules.includes('*')) return { rules, reason: (m[2] ?? '').trim() };
  }
  return undefined;
}

/** Text of a suppression comment, as the quick-fix inserts it. */
export function suppressionComment(rule: string, reason: string): string {
  return `/* notifier-audit: ignore ${rule} -- ${reason.replace(/\*\//g, '* /')} */`;
}
