// Rule help pages (Markdown files the codeDescription links open) and the hover text built from the same metadata.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES } from '../rules';
import { fileToUri } from './uris';

export function helpUri(helpDir: string, rule: string): string {
  return fileToUri(join(helpDir, `${rule}.md`));
}

/** Writes one Markdown page per rule into helpDir (idempotent). */
export function writeHelpPages(helpDir: string): void {
  mkdirSync(helpDir, { recursive: true });
  for (const r of RULES) {
    const m = r.meta;
    writeFileSync(
      join(helpDir, `${m.id}.md`),
      `# ${m.id}: ${m.title}\n\n${m.help}\n\n## Introduced by\n\n${m.introducedBy}\n\n## Limits\n\n${m.limits}\n\n` +
        `## Suppressing\n\nPut \`/* notifier-audit: ignore ${m.id} -- <reason> */\` on the flagged line or the line above.\n`,
    );
  }
}
