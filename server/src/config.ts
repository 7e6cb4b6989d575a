// Settings schema and defaults, shared by the CLI (--config JSON file) and the language server (workspace settings).
import type { Severity } from './engine/types';

/** A user-declared helper that takes a page-table lock. */
export interface LockHelperSpec {
  name: string;
  /** Index (0-based) of the argument that receives the lock pointer (e.g. &ptl), or "return" when the lock pointer is returned. */
  lockArg: number | 'return';
  /** What the return value says: "pointer" = NULL means not locked; "bool" = false means not locked; "zero" = locked
   *  only when it returns 0 (follow_pte style); "always" = always locked. */
  returns?: 'pointer' | 'bool' | 'zero' | 'always';
}

/** A user-declared lock release helper. */
export interface UnlockHelperSpec {
  name: string;
  lockArg: number;
}

export interface NotifierSpec {
  name: string;
  /** true: may sleep (a range start/end-like call); false: allowed under the page-table lock. */
  maySleep: boolean;
  /** Optional role: "range_start" | "range_end" | "change_pte" to give the name bracket semantics. */
  role?: 'range_start' | 'range_end' | 'change_pte';
}

export interface Settings {
  /** "X.Y" to force a kernel version; null to read the tree's Makefile (unknown: v3.7..v6.9 semantics). */
  kernelVersion: string | null;
  /** Rule ids that run. */
  enabledRules: string[];
  /** Severity per rule id. */
  severity: Record<string, Severity>;
  lockHelpers: LockHelperSpec[];
  unlockHelpers: UnlockHelperSpec[];
  notifiers: NotifierSpec[];
  /** Glob patterns (relative to the scanned root or workspace) of files not to analyse. */
  exclude: string[];
  /** Files larger than this many bytes are not analysed (reported instead). */
  maxFileSize: number;
}

export const RULE_IDS = ['unbracketed-change-pte', 'notifier-under-ptl', 'range-imbalance', 'nonblocking-invalidate-sleeps', 'atomic-callback-sleeps', 'interval-sequence', 'register-under-mmap-lock'] as const;

export const DEFAULT_SETTINGS: Settings = {
  kernelVersion: null,
  enabledRules: [...RULE_IDS],
  severity: {
    'unbracketed-change-pte': 'error',
    'notifier-under-ptl': 'error',
    'range-imbalance': 'warning',
    'nonblocking-invalidate-sleeps': 'error',
    'atomic-callback-sleeps': 'error',
    'interval-sequence': 'error',
    'register-under-mmap-lock': 'error',
  },
  lockHelpers: [],
  unlockHelpers: [],
  notifiers: [],
  exclude: [],
  maxFileSize: 4 * 1024 * 1024,
};

const SEVERITIES = new Set(['error', 'warning', 'information', 'hint']);

/**
 * The kernel versions whose semantics the tool knows: 2.6.x, then each major's released minors (3.0 to 3.19, 4.0 to
 * 4.20, 5.0 to 5.19) and 6.0 to 6.29 (6.x still grows; the bound leaves room and still rejects garbage like 99.99).
 */
export const LAST_MINOR: Readonly<Record<number, number>> = { 3: 19, 4: 20, 5: 19, 6: 29 };
export const KERNEL_VERSION_RANGE = '2.6, 3.0-3.19, 4.0-4.20, 5.0-5.19 or 6.0-6.29';

/** Undefined when `v` ("6.1", "v3.10", "2.6.32") names a kernel version the tool knows; else why not. */
export function kernelVersionProblem(v: string): string | undefined {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/.exec(v.trim());
  if (!m) return `"${v}" is not a kernel version: expected X.Y or X.Y.Z, like 6.1`;
  const [major, minor, sub] = [Number(m[1]), Number(m[2]), m[3] === undefined ? 0 : Number(m[3])];
  const known = major === 2 ? minor === 6 : LAST_MINOR[major] !== undefined && minor <= LAST_MINOR[major];
  if (!known || sub > 255) return `"${v}" is not a Linux version this tool knows (${KERNEL_VERSION_RANGE})`;
  return undefined;
}

/** The nearest rule id to a misspelt one (edit distance at most 3), for "did you mean". */
function nearestRule(name: string): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0];
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const t = d[j];
        d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = t;
      }
    }
    return d[b.length];
  };
  let best: string | undefined;
  let bestD = 4;
  for (const r of RULE_IDS) {
    const x = dist(name.toLowerCase(), r);
    if (x < bestD) [best, bestD] = [r, x];
  }
  return best;
}

const unknownRule = (name: string): string => {
  const near = nearestRule(name);
  return `unknown rule "${name}"${near ? ` (did you mean "${near}"?)` : ''}; rules are ${RULE_IDS.join(', ')}`;
};

/**
 * Validates user settings (from JSON or the editor) and merges them over the defaults.
 * Every problem becomes a message; the bad value falls back to its default, so analysis always has usable settings.
 * `errors` are the problems that change what is checked in a way a CI run must not hide (a rule named in
 * enabledRules or severity that does not exist, no rule enabled, a bad severity level, a kernel version the tool does
 * not know), worded for the command line, which stops on them (exit 2). The others (an unknown key, a malformed
 * helper) are warnings there. `problems` keep the editor's wording and fallbacks.
 */
export function normalizeSettings(input: unknown): { settings: Settings; problems: string[]; errors: string[] } {
  const problems: string[] = [];
  const errors: string[] = [];
  /** An error: `cli` for the command line, `editor` (default: the same) for the editor's problems. */
  const error = (cli: string, editor = cli): void => {
    problems.push(editor);
    errors.push(cli);
  };
  const s: Settings = JSON.parse(JSON.stringify(DEFAULT_SETTINGS)) as Settings;
  if (input === undefined || input === null) return { settings: s, problems, errors };
  if (typeof input !== 'object' || Array.isArray(input)) {
    error('settings must be a JSON object', 'settings must be a JSON object; using defaults');
    return { settings: s, problems, errors };
  }
  const o = input as Record<string, unknown>;
  const known = new Set(Object.keys(DEFAULT_SETTINGS));
  for (const k of Object.keys(o)) if (!known.has(k)) problems.push(`unknown setting "${k}" ignored`);

  if (o.kernelVersion !== undefined && o.kernelVersion !== null && o.kernelVersion !== '') {
    const v = o.kernelVersion;
    const fallback = "; reading the tree's Makefile instead";
    if (typeof v === 'string' && /^\d+\.\d+(\.\d+)?$/.test(v.trim())) {
      const bad = kernelVersionProblem(v);
      if (!bad) s.kernelVersion = v.trim();
      else error(`kernelVersion: ${bad}`, `kernelVersion: ${bad}${fallback}`);
    } else {
      error(`kernelVersion: ${typeof v === 'string' ? kernelVersionProblem(v) : `${JSON.stringify(v)} is not a kernel version: expected X.Y or X.Y.Z, like 6.1`}`,
        `kernelVersion must look like "6.1"; got ${JSON.stringify(v)}${fallback}`);
    }
  }
  const isRule = (r: string): boolean => (RULE_IDS as readonly string[]).includes(r);
  if (o.enabledRules !== undefined) {
    if (Array.isArray(o.enabledRules) && o.enabledRules.every((r) => typeof r === 'string')) {
      const names = o.enabledRules as string[];
      const bad = names.filter((r) => !isRule(r));
      if (bad.length) {
        problems.push(`unknown rule id(s) in enabledRules: ${bad.join(', ')}`);
        for (const r of bad) errors.push(`enabledRules: ${unknownRule(r)}`);
      } else if (names.length === 0) errors.push('enabledRules is empty: no rule would run');
      s.enabledRules = [...new Set(names.filter(isRule))];
    } else error('enabledRules must be an array of rule ids', 'enabledRules must be an array of rule ids; using all rules');
  }
  if (o.severity !== undefined) {
    if (o.severity && typeof o.severity === 'object' && !Array.isArray(o.severity)) {
      for (const [k, v] of Object.entries(o.severity as Record<string, unknown>)) {
        if (!isRule(k)) error(`severity: ${unknownRule(k)}`, `severity: unknown rule "${k}"`);
        else if (typeof v !== 'string' || !SEVERITIES.has(v)) {
          error(`severity of ${k} must be error, warning, information or hint (got ${JSON.stringify(v)})`, `severity of ${k} must be error|warning|information|hint`);
        } else s.severity[k] = v as Severity;
      }
    } else error('severity must be an object {ruleId: level}');
  }
  const arr = <T>(key: string, valid: (x: unknown) => x is T): T[] => {
    const v = o[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      problems.push(`${key} must be an array`);
      return [];
    }
    const out: T[] = [];
    v.forEach((x, i) => (valid(x) ? out.push(x) : problems.push(`${key}[${i}] is malformed and ignored: ${JSON.stringify(x)}`)));
    return out;
  };
  const isName = (x: unknown): boolean => typeof x === 'string' && /^[A-Za-z_]\w*$/.test(x);
  s.lockHelpers = arr('lockHelpers', (x): x is LockHelperSpec => {
    const h = x as LockHelperSpec;
    return !!h && typeof h === 'object' && isName(h.name) && (h.lockArg === 'return' || (Number.isInteger(h.lockArg) && (h.lockArg as number) >= 0)) &&
      (h.returns === undefined || ['pointer', 'bool', 'zero', 'always'].includes(h.returns));
  });
  s.unlockHelpers = arr('unlockHelpers', (x): x is UnlockHelperSpec => {
    const h = x as UnlockHelperSpec;
    return !!h && typeof h === 'object' && isName(h.name) && Number.isInteger(h.lockArg) && h.lockArg >= 0;
  });
  s.notifiers = arr('notifiers', (x): x is NotifierSpec => {
    const h = x as NotifierSpec;
    return !!h && typeof h === 'object' && isName(h.name) && typeof h.maySleep === 'boolean' &&
      (h.role === undefined || ['range_start', 'range_end', 'change_pte'].includes(h.role));
  });
  s.exclude = arr('exclude', (x): x is string => typeof x === 'string');
  if (o.maxFileSize !== undefined) {
    if (typeof o.maxFileSize === 'number' && Number.isFinite(o.maxFileSize) && o.maxFileSize > 0) s.maxFileSize = Math.floor(o.maxFileSize);
    else problems.push('maxFileSize must be a positive number of bytes');
  }
  return { settings: s, problems, errors };
}
