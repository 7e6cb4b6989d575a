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

export const RULE_IDS = ['unbracketed-change-pte', 'notifier-under-ptl', 'range-imbalance'] as const;

export const DEFAULT_SETTINGS: Settings = {
  kernelVersion: null,
  enabledRules: [...RULE_IDS],
  severity: {
    'unbracketed-change-pte': 'error',
    'notifier-under-ptl': 'error',
    'range-imbalance': 'warning',
  },
  lockHelpers: [],
  unlockHelpers: [],
  notifiers: [],
  exclude: [],
  maxFileSize: 4 * 1024 * 1024,
};

const SEVERITIES = new Set(['error', 'warning', 'information', 'hint']);

/**
 * Validates user settings (from JSON or the editor) and merges them over the defaults.
 * Every problem becomes a message; the bad value falls back to its default, so analysis always has usable settings.
 */
export function normalizeSettings(input: unknown): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const s: Settings = JSON.parse(JSON.stringify(DEFAULT_SETTINGS)) as Settings;
  if (input === undefined || input === null) return { settings: s, problems };
  if (typeof input !== 'object' || Array.isArray(input)) {
    problems.push('settings must be a JSON object; using defaults');
    return { settings: s, problems };
  }
  const o = input as Record<string, unknown>;
  const known = new Set(Object.keys(DEFAULT_SETTINGS));
  for (const k of Object.keys(o)) if (!known.has(k)) problems.push(`unknown setting "${k}" ignored`);

  if (o.kernelVersion !== undefined && o.kernelVersion !== null && o.kernelVersion !== '') {
    if (typeof o.kernelVersion === 'string' && /^\d+\.\d+(\.\d+)?$/.test(o.kernelVersion.trim())) s.kernelVersion = o.kernelVersion.trim();
    else problems.push(`kernelVersion must look like "6.1"; got ${JSON.stringify(o.kernelVersion)}; reading the tree's Makefile instead`);
  }
  if (o.enabledRules !== undefined) {
    if (Array.isArray(o.enabledRules) && o.enabledRules.every((r) => typeof r === 'string')) {
      const bad = (o.enabledRules as string[]).filter((r) => !(RULE_IDS as readonly string[]).includes(r));
      if (bad.length) problems.push(`unknown rule id(s) in enabledRules: ${bad.join(', ')}`);
      s.enabledRules = (o.enabledRules as string[]).filter((r) => (RULE_IDS as readonly string[]).includes(r));
    } else problems.push('enabledRules must be an array of rule ids; using all rules');
  }
  if (o.severity !== undefined) {
    if (o.severity && typeof o.severity === 'object' && !Array.isArray(o.severity)) {
      for (const [k, v] of Object.entries(o.severity as Record<string, unknown>)) {
        if (!(RULE_IDS as readonly string[]).includes(k)) problems.push(`severity: unknown rule "${k}"`);
        else if (typeof v !== 'string' || !SEVERITIES.has(v)) problems.push(`severity of ${k} must be error|warning|information|hint`);
        else s.severity[k] = v as Severity;
      }
    } else problems.push('severity must be an object {ruleId: level}');
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
  return { settings: s, problems };
}
