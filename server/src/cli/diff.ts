// Unified diff parsing and resolution (the --diff patch-review mode): which new-side lines each file's hunks touch,
// and which scanned files the diff's paths name once their leading components are stripped as `git apply -p` does.

/** One file of a diff. `path` is the new-side path as written (prefixes kept); a deleted file has `deleted`. */
export interface DiffFile {
  path: string;
  deleted: boolean;
  /** Touched new-side line ranges [first, last]. A deletion touches the kept lines before and after it. */
  ranges: Array<[number, number]>;
}

export interface ParsedDiff {
  files: DiffFile[];
  hunks: number;
}

/** A path from a ---/+++ or diff --git line: C-quoted paths unquoted, a timestamp after a tab dropped. */
function headerPath(raw: string): string {
  let p = raw.split('\t')[0].trim();
  if (p.startsWith('"') && p.endsWith('"') && p.length >= 2) {
    p = p.slice(1, -1).replace(/\\([0-7]{3}|.)/g, (_m, c: string) =>
      /^[0-7]{3}$/.test(c) ? String.fromCharCode(parseInt(c, 8)) : ({ n: '\n', t: '\t', '"': '"', '\\': '\\' } as Record<string, string>)[c] ?? c);
  }
  return p;
}

/**
 * Parses a unified diff (git or plain `diff -u`). Hunk bodies are read by their line counts, so a removed line that
 * starts with "--" or an added one with "++" is not taken for a file header.
 */
export function parseUnifiedDiff(text: string): ParsedDiff {
  const files: DiffFile[] = [];
  let cur: DiffFile | undefined;
  let oldPath: string | undefined;
  let hunks = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.startsWith('--- ') && i + 1 < lines.length && lines[i + 1].startsWith('+++ ')) {
      oldPath = headerPath(line.slice(4));
      continue;
    }
    if (line.startsWith('+++ ')) {
      const p = headerPath(line.slice(4));
      const deleted = p === '/dev/null';
      cur = { path: deleted ? (oldPath ?? p) : p, deleted, ranges: [] };
      files.push(cur);
      oldPath = undefined;
      continue;
    }
    const h = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (!h || !cur) continue;
    hunks++;
    let oldLeft = h[1] === undefined ? 1 : Number(h[1]);
    let newLeft = h[3] === undefined ? 1 : Number(h[3]);
    let newLine = Number(h[2]);
    // A pure deletion's hunk header names the line before it (or 0): the deletion touches the line after that.
    if (newLeft === 0) newLine++;
    let start = -1;
    let last = -1;
    const flush = (): void => {
      if (start >= 0) cur!.ranges.push([start, Math.max(start, last)]);
      start = -1;
    };
    while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
      const body = lines[i + 1].replace(/\r$/, '');
      const c = body[0];
      if (c === '\\') {
        i++; // "\ No newline at end of file"
        continue;
      }
      if (c === '+' && newLeft > 0) {
        if (start < 0) start = newLine;
        last = newLine;
        newLine++;
        newLeft--;
      } else if (c === '-' && oldLeft > 0) {
        // A deletion touches the kept lines on both sides of it.
        if (start < 0) start = Math.max(1, newLine - 1);
        last = Math.max(last, newLine);
        oldLeft--;
      } else if ((c === ' ' || body === '') && oldLeft > 0 && newLeft > 0) {
        // Context (an empty line is context whose space some tools strip).
        flush();
        newLine++;
        oldLeft--;
        newLeft--;
      } else break; // a truncated hunk: stop at what does not fit
      i++;
    }
    flush();
  }
  return { files, hunks };
}

/**
 * `path` with its first `level` components removed (`git apply -p<level>`); undefined when too few remain. Beyond -p1
 * a directory must remain: a bare file name would match any file of that name anywhere in the scanned tree.
 */
export function stripPath(path: string, level: number): string | undefined {
  const parts = path.split('/');
  // Like git apply, a run of slashes counts as one separator; a leading slash opens an empty first component.
  const compact = parts.filter((x, i) => x !== '' || i === 0);
  if (level >= compact.length || (level >= 2 && compact.length - level < 2)) return undefined;
  const rest = compact.slice(level).join('/');
  return rest === '' ? undefined : rest;
}

/** The order in which strip levels are tried: -p1 (git's default), then -p0, then deeper while a directory remains. */
export function stripLevels(files: DiffFile[]): number[] {
  const most = Math.max(0, ...files.map((f) => f.path.split('/').length));
  const out = [1, 0];
  for (let p = 2; p <= most - 2; p++) out.push(p);
  return out;
}

export interface DiffResolution {
  /** The strip level used (the one that names the most scanned files; the first tried on a tie). */
  level: number;
  levelsTried: number[];
  /** Scanned file (absolute path) -> its touched line ranges. */
  ranges: Map<string, Array<[number, number]>>;
  /** Diff paths (stripped at `level`) that name a scanned file. */
  matched: string[];
  /** Diff paths (stripped at `level`, or as written when too short) that name no scanned file. */
  unmatched: string[];
  /** Deleted files (not audited). */
  deleted: string[];
}

/**
 * Resolves the diff's paths against the scanned files: a stripped path names a scanned file when the file's absolute
 * path is it or ends with "/" + it. One strip level is used for the whole diff, as `git apply -p` does.
 */
export function resolveDiff(diff: ParsedDiff, scanned: string[]): DiffResolution {
  const byBase = new Map<string, string[]>();
  for (const f of scanned) {
    const n = f.split('\\').join('/');
    const base = n.slice(n.lastIndexOf('/') + 1);
    const list = byBase.get(base);
    if (list) list.push(n);
    else byBase.set(base, [n]);
  }
  const lookup = (candidate: string): string[] => {
    const base = candidate.slice(candidate.lastIndexOf('/') + 1);
    return (byBase.get(base) ?? []).filter((f) => f === candidate || f.endsWith('/' + candidate));
  };
  const live = diff.files.filter((f) => !f.deleted);
  const levels = stripLevels(live);
  let best = { level: levels[0], count: -1 };
  for (const level of levels) {
    let count = 0;
    for (const f of live) {
      const c = stripPath(f.path, level);
      if (c !== undefined && lookup(c).length) count++;
    }
    if (count > best.count) best = { level, count };
  }
  const ranges = new Map<string, Array<[number, number]>>();
  const matched: string[] = [];
  const unmatched: string[] = [];
  for (const f of live) {
    const c = stripPath(f.path, best.level);
    const hits = c === undefined ? [] : lookup(c);
    if (!hits.length) {
      unmatched.push(c ?? f.path);
      continue;
    }
    matched.push(c!);
    for (const h of hits) ranges.set(h, [...(ranges.get(h) ?? []), ...f.ranges]);
  }
  return { level: best.level, levelsTried: levels, ranges, matched, unmatched, deleted: diff.files.filter((f) => f.deleted).map((f) => f.path) };
}
