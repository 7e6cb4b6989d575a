// Unified diff parsing: which new-side lines each file's hunks touch (the --diff patch-review mode).
export type ChangedLines = Map<string, Array<[number, number]>>;

/** Parses a unified diff (git or plain); returns file (new-side path, a/ b/ prefixes stripped) -> touched line ranges. */
export function parseUnifiedDiff(text: string): ChangedLines {
  const out: ChangedLines = new Map();
  let file: string | undefined;
  let newLine = 0;
  let hunkStart = -1;
  let lastTouched = -1;
  const flush = (): void => {
    if (file && hunkStart >= 0) out.get(file)!.push([hunkStart, Math.max(hunkStart, lastTouched)]);
    hunkStart = -1;
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('+++ ')) {
      flush();
      const p = line.slice(4).split('\t')[0].trim();
      file = p === '/dev/null' ? undefined : p.replace(/^[ab]\//, '');
      if (file && !out.has(file)) out.set(file, []);
      continue;
    }
    const h = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (h) {
      flush();
      newLine = Number(h[1]);
      continue;
    }
    if (!file) continue;
    if (line.startsWith('+') && !line.startsWith('+++')) {
      if (hunkStart < 0) hunkStart = newLine;
      lastTouched = newLine;
      newLine++;
    } else if (line.startsWith('-') && !line.startsWith('---')) {
      // A deletion touches the line where it happened.
      if (hunkStart < 0) hunkStart = newLine;
      lastTouched = newLine;
    } else if (line.startsWith(' ')) {
      if (hunkStart >= 0) {
        flush();
      }
      newLine++;
    }
  }
  flush();
  return out;
}

/** The changed ranges for an absolute or relative path, matched by path suffix. */
export function rangesFor(changed: ChangedLines, file: string): Array<[number, number]> | undefined {
  const norm = file.split('\\').join('/');
  for (const [p, r] of changed) if (norm === p || norm.endsWith('/' + p)) return r;
  return undefined;
}
