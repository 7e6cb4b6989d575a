// Length-preserving kernel pre-pass: rewrites kernel macros tree-sitter-c cannot parse, keeping every offset and line valid.

/** A lock contract annotation found on a function (`__acquires(x)`, `__releases(x)`, `__must_hold(x)`). */
export interface LockContract {
  kind: 'acquires' | 'releases' | 'must_hold';
  lock: string;
  offset: number;
}

export interface PrepassResult {
  text: string;
  contracts: LockContract[];
  /** Mask of `text` (comments, strings, directives and dropped #if branches as spaces): its brace structure. */
  mask: string;
}

const ANNOTATIONS = [
  '__init', '__exit', '__user', '__rcu', '__iomem', '__percpu', '__force', '__must_check', '__always_inline',
  'noinline', '__noinline', '__maybe_unused', '__always_unused', '__cold', '__hot', '__weak', '__ref', '__meminit',
  '__meminitdata', '__initdata', '__initconst', '__exitdata', '__read_mostly', '__bitwise', 'notrace', '__pure',
  '__latent_entropy', '__init_or_module', '__sched', '__visible', 'asmlinkage', '__ro_after_init', '__kprobes',
  '__nocfi', '__noreturn', '__packed', '__malloc', '__attribute_const__', '__used', '__safe', '__private',
  '__cacheline_aligned', '__cacheline_aligned_in_smp', '____cacheline_aligned', '____cacheline_aligned_in_smp',
  '__randomize_layout', '__no_sanitize_address', 'noinstr', '__deprecated', '__irq_entry', '__lockfunc',
  '__always_used', '__flatten', '__no_kcsan', '__nostackprotector', '__ref', '__refdata', '__head', '__fastpath_inline',
  '__must_be_array', '__counted_by_ptr', '__no_profile', '__cpuidle', 'inline_for_performance',
];
const ANNOTATIONS_WITH_ARGS = ['__printf', '__scanf', '__aligned', '__section', '__alloc_size', '__counted_by', '__cond_acquires', '__cond_releases', '__assume_aligned', '__diag_ignore', '__nonstring', '__must_hold_shared'];
const CONTRACTS = ['__acquires', '__releases', '__must_hold'];
/** Macros whose first argument is a type. */
const TYPE_FIRST = new Set(['min_t', 'max_t', 'clamp_t', 'clamp_val', 'sizeof_field', 'typeof_member', 'FIELD_SIZEOF', 'DECLARE_FLEX_ARRAY', 'va_arg_type']);
/** Macros whose second argument is a type. */
const TYPE_SECOND = new Set(['container_of', 'container_of_const', 'list_entry', 'list_first_entry', 'list_last_entry', 'list_first_entry_or_null',
  'list_last_entry_or_null', 'rb_entry', 'rb_entry_safe', 'hlist_entry', 'hlist_entry_safe', 'llist_entry', 'va_arg', 'list_entry_rcu',
  'list_first_or_null_rcu', 'hlist_entry_rcu', 'container_of_safe', 'READ_ONCE_TYPE']);

const ANN_RE = new RegExp(`\\b(?:${ANNOTATIONS.join('|')})\\b`, 'g');
const ANN_ARGS_RE = new RegExp(`\\b(?:${ANNOTATIONS_WITH_ARGS.join('|')}|${CONTRACTS.join('|')})\\s*\\(`, 'g');
/** Loop-macro calls: names containing for_each, found from the literal outwards (a leading \w* would backtrack). */
function* loopMacros(mask: string): Generator<{ index: number; name: string; open: number }> {
  const word = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  for (let at = mask.indexOf('for_each'); at >= 0; at = mask.indexOf('for_each', at + 8)) {
    let a = at;
    while (a > 0 && word(mask.charCodeAt(a - 1))) a--;
    let b = at + 8;
    while (b < mask.length && word(mask.charCodeAt(b))) b++;
    let o = b;
    while (o < mask.length && (mask.charCodeAt(o) === 32 || mask.charCodeAt(o) === 9 || mask.charCodeAt(o) === 10)) o++;
    if (mask.charCodeAt(o) !== 40) continue;
    yield { index: a, name: mask.slice(a, b), open: o };
    at = b - 8;
  }
}
const TYPE_MACRO_RE = new RegExp(`\\b(${[...TYPE_FIRST, ...TYPE_SECOND].join('|')})\\s*\\(`, 'g');

/**
 * Builds a mask of the text: comments, string and character literals and preprocessor lines become spaces
 * (newlines kept), so that the rewriting regexes only see code.
 */
export function maskText(src: string): { mask: string; directives: Array<{ start: number; end: number }> } {
  const n = src.length;
  const out = utf16Array(src);
  const directives: Array<{ start: number; end: number }> = [];
  // Native fills, then the newlines put back: comments are a large part of kernel files.
  const blankRange = (a: number, b: number): void => {
    out.fill(32, a, b);
    for (let k = src.indexOf('\n', a); k >= 0 && k < b; k = src.indexOf('\n', k + 1)) out[k] = 10;
  };
  // The scan jumps (with a native regex) to the next place where something can start: a line that starts a
  // directive, a comment, a literal. Plain code between them is not visited character by character.
  const next = /\n(?=[ \t]*#)|\/[*/]|["']/g;
  let i = 0;
  let lineStart = true;
  while (i < n) {
    if (!lineStart) {
      next.lastIndex = i;
      const m = next.exec(src);
      if (!m) break;
      i = m.index;
    }
    const c = out[i];
    if (c === 10) { i++; lineStart = true; continue; }
    if (lineStart && (c === 32 || c === 9)) { i++; continue; }
    if (lineStart && c === 35 /* # */) {
      const start = i;
      // A directive runs to the end of line, with backslash continuations; comments inside are part of it.
      while (i < n) {
        const d = out[i];
        if (d === 10) {
          if (i > 0 && src.charCodeAt(i - 1) === 92) { i++; continue; }
          if (i > 1 && src.charCodeAt(i - 1) === 13 && src.charCodeAt(i - 2) === 92) { i++; continue; }
          break;
        }
        if (d === 47 && src.charCodeAt(i + 1) === 42) {
          const e = src.indexOf('*/', i + 2);
          const end = e < 0 ? n : e + 2;
          blankRange(i, end);
          i = end;
          continue;
        }
        out[i] = 32;
        i++;
      }
      directives.push({ start, end: i });
      lineStart = false;
      continue;
    }
    lineStart = false;
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const e = src.indexOf('*/', i + 2);
      const end = e < 0 ? n : e + 2;
      blankRange(i, end);
      i = end;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 47) {
      let e = src.indexOf('\n', i);
      if (e < 0) e = n;
      blankRange(i, e);
      i = e;
      continue;
    }
    if (c === 34 || c === 39) {
      i++;
      while (i < n) {
        const d = out[i];
        if (d === 92 && i + 1 < n) { out[i] = 32; if (out[i + 1] !== 10) out[i + 1] = 32; i += 2; continue; }
        if (d === c) { i++; break; }
        if (d === 10) break; // unterminated literal: stop at end of line
        out[i] = 32;
        i++;
      }
      continue;
    }
    // Plain code (or a '/' that starts nothing): the next iteration jumps ahead.
    i++;
  }
  return { mask: utf16(out), directives };
}

function utf16(a: Uint16Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('utf16le');
}

/** The UTF-16 code units of a string, copied natively (a JS loop over every character is slow before the JIT warms up). */
function utf16Array(s: string): Uint16Array {
  const b = Buffer.from(s, 'utf16le');
  if (b.byteOffset % 2 === 0) return new Uint16Array(b.buffer, b.byteOffset, b.length / 2);
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Index just past the parenthesis group opening at `open` in the mask, or -1. */
function matchParen(mask: string, open: number): number {
  let depth = 0;
  for (let i = open; i < mask.length; i++) {
    const c = mask.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) { depth--; if (depth === 0) return i + 1; }
    else if (c === 59 || c === 123 || c === 125) { if (depth > 0 && c !== 59) return -1; }
  }
  return -1;
}

/** Splits the argument list inside [open+1, close-1) at top-level commas; returns [start, end) pairs. */
function splitArgs(mask: string, open: number, close: number): Array<[number, number]> {
  const args: Array<[number, number]> = [];
  let depth = 0;
  let s = open + 1;
  for (let i = open + 1; i < close - 1; i++) {
    const c = mask.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 0) { args.push([s, i]); s = i + 1; }
  }
  args.push([s, close - 1]);
  return args;
}

type Buf = Uint16Array;

function blank(buf: Buf, start: number, end: number): void {
  for (let i = start; i < end; i++) if (buf[i] !== 10 && buf[i] !== 13) buf[i] = 32;
}

/** Replaces a type argument by "0" padded with spaces, so the call parses as an expression. */
function neutraliseArg(buf: Buf, mask: string, a: [number, number]): void {
  let s = a[0];
  while (s < a[1] && /\s/.test(mask[s])) s++;
  if (s >= a[1]) return;
  blank(buf, s, a[1]);
  buf[s] = 48; // '0'
}

/** Length-preserving rewrite of kernel-specific syntax. */
export function prepass(src: string): PrepassResult {
  const { mask, directives } = maskText(src);
  const buf = utf16Array(src);
  // The output's mask: the input's, with annotations and the #if branches the pre-pass dropped blanked too (so that
  // `int f(void) __cold {` still shows ')' right before its body).
  const mbuf = utf16Array(mask);
  const contracts: LockContract[] = [];

  for (const m of mask.matchAll(ANN_RE)) {
    blank(buf, m.index!, m.index! + m[0].length);
    blank(mbuf, m.index!, m.index! + m[0].length);
  }

  for (const m of mask.matchAll(ANN_ARGS_RE)) {
    const open = m.index! + m[0].length - 1;
    const close = matchParen(mask, open);
    if (close < 0) continue;
    const name = m[0].replace(/\s*\($/, '');
    if (CONTRACTS.includes(name)) {
      const lock = src.slice(open + 1, close - 1).replace(/\s+/g, '');
      contracts.push({ kind: name.slice(2) as LockContract['kind'], lock, offset: m.index! });
    }
    blank(buf, m.index!, close);
    blank(mbuf, m.index!, close);
  }

  for (const m of loopMacros(mask)) {
    const name = m.name;
    const open = m.open;
    const close = matchParen(mask, open);
    if (close < 0) continue;
    // Only loop heads: the group is followed by a statement, not by ';' ',' ')' or an operator.
    let j = close;
    while (j < mask.length && /\s/.test(mask[j])) j++;
    const next = mask[j];
    if (next === undefined || ';,)=&|?:+-*/<>.[]'.includes(next)) continue;
    // Not a function definition or declaration of a for_each helper: preceded by an identifier (a type) means declaration.
    let k = m.index! - 1;
    while (k >= 0 && /[ \t]/.test(mask[k])) k--;
    if (k >= 0 && /[A-Za-z_0-9*]/.test(mask[k])) {
      const before = mask.slice(Math.max(0, k - 10), k + 1);
      if (!/\b(else|do|return)$/.test(before)) continue;
    }
    const start = m.index!;
    for (let i = 0; i < 5; i++) buf[start + i] = 'while'.charCodeAt(i);
    for (let i = start + 5; i < start + name.length; i++) buf[i] = 32;
  }

  for (const m of mask.matchAll(TYPE_MACRO_RE)) {
    const name = m[1];
    const first = TYPE_FIRST.has(name);
    const second = TYPE_SECOND.has(name);
    if (!first && !second) continue;
    const open = m.index! + m[0].length - 1;
    const close = matchParen(mask, open);
    if (close < 0) continue;
    const args = splitArgs(mask, open, close);
    const idx = first ? 0 : 1;
    if (args.length > idx && (first || args.length >= 3 || name === 'va_arg')) neutraliseArg(buf, mask, args[idx]);
  }

  rewriteConditionals(src, mask, directives, buf, mbuf);
  return { text: utf16(buf), contracts, mask: utf16(mbuf) };
}

interface Branch { dirStart: number; dirEnd: number; kind: string; cond: string }

/**
 * #if groups whose branches are not each a run of whole statements (unbalanced braces or parentheses, or a branch
 * that does not end a statement) are reduced to one branch: the first, or the #else of an `#if 0`. Balanced groups
 * stay, so the CFG can model both branches.
 */
function rewriteConditionals(src: string, mask: string, directives: Array<{ start: number; end: number }>, buf: Buf, mbuf: Buf): void {
  const stack: Branch[][] = [];
  for (const d of directives) {
    const text = src.slice(d.start, d.end);
    const m = /^#\s*(\w+)\s*(.*)$/s.exec(text);
    if (!m) continue;
    const kw = m[1];
    if (kw === 'if' || kw === 'ifdef' || kw === 'ifndef') stack.push([{ dirStart: d.start, dirEnd: d.end, kind: kw, cond: m[2].trim() }]);
    else if ((kw === 'elif' || kw === 'else' || kw === 'elifdef' || kw === 'elifndef') && stack.length) stack[stack.length - 1].push({ dirStart: d.start, dirEnd: d.end, kind: kw, cond: m[2].trim() });
    else if (kw === 'endif' && stack.length) {
      const group = stack.pop()!;
      group.push({ dirStart: d.start, dirEnd: d.end, kind: 'endif', cond: '' });
      reduceGroup(mask, group, buf, mbuf);
    }
  }
}

function isZero(b: Branch): boolean {
  return b.kind === 'if' && /^0\b/.test(b.cond.replace(/\/\*.*?\*\//g, '').trim());
}

function reduceGroup(mask: string, group: Branch[], buf: Buf, mbuf: Buf): void {
  const bodies: Array<[number, number]> = [];
  for (let i = 0; i + 1 < group.length; i++) bodies.push([group[i].dirEnd, group[i + 1].dirStart]);
  const balanced = bodies.every(([s, e]) => {
    let br = 0;
    let pa = 0;
    for (let i = s; i < e; i++) {
      const c = mask.charCodeAt(i);
      if (c === 123) br++; else if (c === 125) br--; else if (c === 40) pa++; else if (c === 41) pa--;
      if (br < 0 || pa < 0) return false;
    }
    if (br !== 0 || pa !== 0) return false;
    const body = mask.slice(s, e).trim();
    return body === '' || /[;}]$/.test(body);
  });
  const hasZero = isZero(group[0]);
  if (balanced && !hasZero) return;
  // Keep one branch: the first, or for `#if 0` the next one.
  const keep = hasZero ? 1 : 0;
  for (let i = 0; i < group.length; i++) {
    blank(buf, group[i].dirStart, group[i].dirEnd);
    if (i < bodies.length && i !== keep) {
      blank(buf, bodies[i][0], bodies[i][1]);
      blank(mbuf, bodies[i][0], bodies[i][1]);
    }
  }
}
