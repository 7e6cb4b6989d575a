// Quick-fix text generation (pure: text + finding + kernel version in, offset edits out): range wrappers, moving a call out of the lock, suppression.
import type { Finding, KernelVersion } from '../engine/types';
import { suppressionComment } from '../engine/suppress';

/** An insertion or replacement in UTF-16 offsets of the original text. */
export interface OffsetEdit {
  start: number;
  end: number;
  newText: string;
}

export interface FixProposal {
  title: string;
  kind: 'quickfix';
  isPreferred?: boolean;
  edits: OffsetEdit[];
}

/** Which range-wrapper API a kernel uses, and the parameter names of mmu_notifier_range_init when there is one. */
export interface RangeApi {
  style: 'mmun' | 'range';
  /** Parameter names of mmu_notifier_range_init (style 'range'), e.g. ["range","event","flags","vma","mm","start","end"]. */
  initParams?: string[];
  /** Where the API description came from (shown in the action title). */
  source: string;
}

const cmp = (v: KernelVersion, major: number, minor: number): number => v.major - major || v.minor - minor;

/** The range API of a kernel version (without a header): v4.19 and before mmun_start/mmun_end, then three init signatures. */
export function rangeApiForVersion(v: KernelVersion | null): RangeApi {
  // Unknown version: the v3.7..v6.9 semantics the engine assumes; the most common modern signature (v5.2..v6.2).
  if (!v) return { style: 'range', initParams: ['range', 'event', 'flags', 'vma', 'mm', 'start', 'end'], source: 'v5.2+ API (kernel version unknown)' };
  const label = `v${v.major}.${v.minor}`;
  if (cmp(v, 4, 20) < 0) return { style: 'mmun', source: `${label} API` };
  if (cmp(v, 5, 2) < 0) return { style: 'range', initParams: ['range', 'mm', 'start', 'end'], source: `${label} API` };
  if (cmp(v, 6, 3) < 0) return { style: 'range', initParams: ['range', 'event', 'flags', 'vma', 'mm', 'start', 'end'], source: `${label} API` };
  return { style: 'range', initParams: ['range', 'event', 'flags', 'mm', 'start', 'end'], source: `${label} API` };
}

/** Reads mmu_notifier_range_init's parameter names from the tree's include/linux/mmu_notifier.h; undefined when it has none (pre-v4.20). */
export function rangeApiFromHeader(text: string): RangeApi | undefined {
  const re = /(?:\bvoid\s+|#\s*define\s+)mmu_notifier_range_init\s*\(([^)]*)\)/g;
  for (const m of text.matchAll(re)) {
    const params = m[1]
      .split(',')
      .map((p) => p.replace(/\/\*[\s\S]*?\*\//g, '').trim())
      .map((p) => /([A-Za-z_]\w*)\s*(?:\[\s*\])?$/.exec(p)?.[1] ?? '')
      .filter(Boolean);
    if (params.length >= 3 && params.includes('start') && params.includes('end')) {
      return { style: 'range', initParams: params, source: 'include/linux/mmu_notifier.h' };
    }
  }
  if (/mmu_notifier_invalidate_range_start\s*\(\s*struct\s+mm_struct/.test(text)) return { style: 'mmun', source: 'include/linux/mmu_notifier.h' };
  return undefined;
}

/** The API to use: the tree's header when it says, else the version table. */
export function chooseRangeApi(version: KernelVersion | null, headerText?: string): RangeApi {
  return (headerText && rangeApiFromHeader(headerText)) || rangeApiForVersion(version);
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function indentOfLine(text: string, offset: number): string {
  const s = lineStartOf(text, offset);
  return /^[ \t]*/.exec(text.slice(s, s + 256))![0];
}

/** Indentation of the statement ending just before `lineEndOffset` (the line above it). */
function indentOfPrevLine(text: string, lineEndOffset: number): string {
  return indentOfLine(text, Math.max(0, lineEndOffset - 1));
}

/** The text of the function holding `offset` (rough: from the previous line starting with a letter and followed by "{" to the matching "}"). */
function functionTextAround(text: string, f: Finding): string {
  const lines = text.split('\n');
  let s = f.line - 1;
  while (s > 0 && !/^[A-Za-z_]/.test(lines[s])) s--;
  let e = f.line - 1;
  while (e < lines.length - 1 && !/^}/.test(lines[e])) e++;
  return lines.slice(s, e + 1).join('\n');
}

function freshName(fnText: string, base: string): string {
  let n = base;
  for (let i = 2; new RegExp(`\\b${n}\\b`).test(fnText); i++) n = `${base}${i}`;
  return n;
}

/** The identifiers a fix writes must be in scope: the function (parameters, locals) already names them. */
function inScope(fnText: string, expr: string): boolean {
  const ids = expr.match(/(?<![.>\w])[A-Za-z_]\w*/g) ?? [];
  return ids.every((id) => /^(H?PAGE(_PMD)?_MASK|H?PAGE(_PMD)?_SIZE|NULL)$/.test(id) || new RegExp(`\\b${id}\\b`).test(fnText));
}

/**
 * Quick-fix 1: open an invalidate range before the page-table lock is taken and close it after each unlock, as
 * 6bdb913f0a70 did in do_wp_page(). `flagged`: the start is conditional (some path reaches an unlock without passing
 * it), so a flag set with the start guards each end (`mmun_called` in that patch). Undefined when the bounds or the mm
 * cannot be written with names in scope.
 */
/** The span a new range covers: one page, or one PMD-mapped huge page (the THP sites 2ec74c3 split). */
export interface RangeSpan {
  mask: string;
  size: string;
}
const PAGE_SPAN: RangeSpan = { mask: 'PAGE_MASK', size: 'PAGE_SIZE' };
const HPAGE_PMD_SPAN: RangeSpan = { mask: 'HPAGE_PMD_MASK', size: 'HPAGE_PMD_SIZE' };

export function insertRangeFix(text: string, f: Finding, api: RangeApi, variant: 'plain' | 'flag' | 'exit-label' | 'split-exit' = 'plain', span: RangeSpan = PAGE_SPAN): FixProposal | undefined {
  const flagged = variant === 'flag';
  const h = f.fix;
  if (!h || h.kind !== 'insert-range') return undefined;
  // A range already open around the change but left open on some exit: wrapping again would nest ranges; not this fix.
  if (/range that some path leaves open/.test(f.message)) return undefined;
  const endOffsets = [...new Set(h.endInsertOffsets.map((e) => endOutsideLoops(text, h.startInsertOffset, e)))].sort((a, b) => a - b);
  const fnText = functionTextAround(text, f);
  const mm = h.args[0] ?? (/\bmm\b/.test(fnText) ? 'mm' : h.vma ? `${h.vma}->vm_mm` : undefined);
  const addr = h.args[1] ?? (/\baddress\b/.test(fnText) ? 'address' : /\baddr\b/.test(fnText) ? 'addr' : undefined);
  if (!mm || !addr || !inScope(fnText, mm) || !inScope(fnText, addr) || (h.vma && !inScope(fnText, h.vma))) return undefined;
  const addrExpr = /^[\w>.-]+$/.test(addr) ? addr : `(${addr})`;
  const startAt = aboveComment(text, h.startInsertOffset);
  const startIndent = indentOfLine(text, startAt);
  const edits: OffsetEdit[] = [];
  let open: string;
  let close: string;
  const flag = flagged ? freshName(fnText, api.style === 'mmun' ? 'mmun_called' : 'notified') : '';
  if (api.style === 'mmun') {
    const s = freshName(fnText, 'mmun_start');
    const e = freshName(fnText, 'mmun_end');
    edits.push({ start: h.declInsertOffset, end: h.declInsertOffset, newText: flagged
      ? `${h.indent}unsigned long ${s} = 0;\t/* For mmu_notifiers */\n${h.indent}unsigned long ${e} = 0;\t/* For mmu_notifiers */\n${h.indent}bool ${flag} = false;\n`
      : `${h.indent}unsigned long ${s}, ${e};\n` });
    open =
      `${startIndent}${s} = ${addrExpr} & ${span.mask};\n` +
      `${startIndent}${e} = ${s} + ${span.size};\n` +
      (flagged ? `${startIndent}${flag} = true;\n` : '') +
      `${startIndent}mmu_notifier_invalidate_range_start(${mm}, ${s}, ${e});\n`;
    close = `mmu_notifier_invalidate_range_end(${mm}, ${s}, ${e});`;
  } else {
    const r = freshName(fnText, 'range');
    const start = `${addrExpr} & ${span.mask}`;
    const values: Record<string, string> = {
      range: `&${r}`,
      event: 'MMU_NOTIFY_CLEAR',
      flags: '0',
      vma: h.vma ?? 'NULL',
      mm,
      start,
      end: `(${start}) + ${span.size}`,
      owner: 'NULL',
    };
    const params = api.initParams ?? ['range', 'event', 'flags', 'vma', 'mm', 'start', 'end'];
    const args = params.map((p, i) => values[p] ?? (i === 0 ? `&${r}` : '0'));
    edits.push({ start: h.declInsertOffset, end: h.declInsertOffset, newText: `${h.indent}struct mmu_notifier_range ${r};\n${flagged ? `${h.indent}bool ${flag} = false;\n` : ''}` });
    open = `${startIndent}mmu_notifier_range_init(${args.join(', ')});\n${flagged ? `${startIndent}${flag} = true;\n` : ''}${startIndent}mmu_notifier_invalidate_range_start(&${r});\n`;
    close = `mmu_notifier_invalidate_range_end(&${r});`;
  }
  // Set apart by a blank line, as the code before it is (the 2012 patch's layout).
  const blankAbove = startAt >= 2 && text[startAt - 1] === '\n' && /^[ \t]*$/.test(text.slice(lineStartOf(text, startAt - 1), startAt - 1));
  edits.push({ start: startAt, end: startAt, newText: blankAbove ? `${open}\n` : open });
  // The end at `indent`: guarded by the flag (two lines) when the start is conditional.
  const closeAt = (indent: string): string => (flagged ? `${indent}if (${flag})\n${indent}\t${close}\n` : `${indent}${close}\n`);
  const viaLabel = variant === 'exit-label'
    ? endAtExitLabel(text, startAt, endOffsets, f, fnText, closeAt(h.indent))
    : variant === 'split-exit'
      ? splitSharedExit(text, endOffsets, closeAt(h.indent))
      : endAtCommonLabel(text, endOffsets, fnText, h.indent, closeAt(h.indent));
  if ((variant === 'exit-label' || variant === 'split-exit') && !viaLabel) return undefined;
  if (viaLabel) edits.push(...viaLabel);
  else for (const off of endOffsets) edits.push({ start: off, end: off, newText: closeAt(indentOfPrevLine(text, off)) });
  return {
    title: `Wrap in mmu_notifier_invalidate_range_start/end${flagged ? ` (with a ${flag} flag: the start is conditional)` : ''} (${api.source})`,
    kind: 'quickfix',
    isPreferred: true,
    edits: normalizeEdits(edits),
  };
}

/**
 * The shared exit split, as 2ec74c3 wrote do_huge_pmd_wp_page(): the locked section falls through into an exit label
 * `L: unlock; [labels:] return x;` that early exits (taken before the range starts) jump to as well. The section's
 * own path unlocks and ends the range, then reaches the function's return; `L:` moves after the return with its
 * own unlock and return, so the early exits end no range they never started.
 */
function splitSharedExit(text: string, ends: number[], close: string): OffsetEdit[] | undefined {
  if (ends.length !== 1) return undefined;
  const off = ends[0];
  const unlockStart = lineStartOf(text, off - 1);
  const unlockLine = text.slice(unlockStart, off);
  if (!/^\s*spin_unlock\w*\s*\(.*\)\s*;\s*\n$/.test(unlockLine)) return undefined;
  const labelStart = lineStartOf(text, unlockStart - 1);
  const label = /^(\w+):\s*\n$/.exec(text.slice(labelStart, unlockStart))?.[1];
  if (!label) return undefined;
  // The rest of the function: labels, blank lines and one return, then the closing brace.
  const closeAt = text.indexOf('\n}', off - 1);
  if (closeAt < 0) return undefined;
  const tail = text.slice(off, closeAt + 1);
  const lines = tail.split('\n').filter((l) => l.trim() !== '');
  const ret = lines.filter((l) => /^\s*return\b[^;]*;\s*$/.test(l));
  if (ret.length !== 1 || lines[lines.length - 1] !== ret[0] || !lines.every((l) => l === ret[0] || /^\w+:\s*$/.test(l))) return undefined;
  return [{ start: labelStart, end: closeAt + 1, newText: `${unlockLine}${close}${tail}${label}:\n${unlockLine}${ret[0]}\n` }];
}

/** A line start moved above the comment block that ends right before it (the comment belongs to the locked code). */
function aboveComment(text: string, lineStart: number): number {
  let at = lineStart;
  for (;;) {
    const prevEnd = at - 1;
    if (prevEnd <= 0) return at;
    const prevStart = lineStartOf(text, prevEnd);
    const line = text.slice(prevStart, prevEnd);
    if (!/^\s*(\*|\/\*|\/\/)/.test(line) || /^\s*\/\*.*\*\/\s*\S/.test(line)) return at;
    at = prevStart;
    if (/^\s*(\/\*|\/\/)/.test(line)) return at;
  }
}

/** Positions of code braces in text[from, to) (comments, strings and character literals skipped). */
function scanBraces(text: string, from: number, to: number, onBrace: (c: '{' | '}', at: number) => boolean | void): void {
  for (let i = from; i < to; i++) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? to : e + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      const e = text.indexOf('\n', i);
      i = e < 0 ? to : e;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < to && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      i = j;
    } else if ((c === '{' || c === '}') && onBrace(c, i) === true) return;
  }
}

/** The word before the parenthesised header that ends right before `brace` (`for (...) {` gives "for"). */
function loopKeyword(text: string, brace: number): string {
  let i = brace - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  if (text[i] !== ')') return '';
  for (let depth = 0; i >= 0; i--) {
    if (text[i] === ')') depth++;
    else if (text[i] === '(' && --depth === 0) break;
  }
  return /(\w+)\s*$/.exec(text.slice(Math.max(0, i - 40), i))?.[1] ?? '';
}

/** The `}` in text[from, to) that brings the brace depth (`depth` open at `from`) back to 0; -1 when there is none. */
function closingBrace(text: string, from: number, to: number, depth: number): number {
  let d = depth;
  let close = -1;
  scanBraces(text, from, to, (c, at) => {
    d += c === '{' ? 1 : -1;
    if (d === 0) {
      close = at;
      return true;
    }
    return false;
  });
  return close;
}

/**
 * An end placed inside a loop whose body does not contain the start (the lock is taken by the loop condition, as with
 * page_vma_mapped_walk()) would close the range on the first iteration: move it after the loop.
 */
function endOutsideLoops(text: string, start: number, end: number): number {
  const stack: number[] = [];
  scanBraces(text, start, end, (c, at) => {
    if (c === '{') stack.push(at);
    else stack.pop();
  });
  if (!stack.length) return end;
  const open = stack[0];
  const isDo = /\bdo\s*$/.test(text.slice(Math.max(0, open - 20), open));
  if (!isDo && !/^(while|for|\w*for_each\w*)$/.test(loopKeyword(text, open))) return end;
  const close = closingBrace(text, open, text.length, 0);
  if (close < 0) return end;
  const after = isDo ? text.indexOf(';', close) : close;
  const nl = text.indexOf('\n', after);
  return nl < 0 ? text.length : nl + 1;
}

/**
 * The 2012 patch's shape for goto cleanup chains: when the unlocks are each followed by `goto L;` or fall through to `L:`,
 * close the range once at a new label just before L (`out_mn:`) and send those gotos there.
 */
function endAtCommonLabel(text: string, ends: number[], fnText: string, indent: string, close: string): OffsetEdit[] | undefined {
  if (ends.length < 2) return undefined;
  const gotos: Array<{ at: number; len: number; label: string }> = [];
  const falls: number[] = [];
  for (const e of ends) {
    const m = /^\s*goto\s+(\w+)\s*;/.exec(text.slice(e, e + 200));
    if (m) gotos.push({ at: e + m[0].lastIndexOf(m[1]), len: m[1].length, label: m[1] });
    else falls.push(e);
  }
  if (!gotos.length || gotos.some((g) => g.label !== gotos[0].label)) return undefined;
  const label = gotos[0].label;
  const last = Math.max(...ends);
  const lm = new RegExp(`^${label}:`, 'm');
  const rest = text.slice(last);
  const lmm = lm.exec(rest);
  if (!lmm) return undefined;
  const labelOff = last + lmm.index;
  for (const e of falls) {
    const between = text.slice(e, labelOff);
    let depth = 0;
    for (const c of between) depth += c === '{' ? 1 : c === '}' ? -1 : 0;
    if (depth !== 0 || /\b(return|goto|break|continue)\b/.test(between)) return undefined;
  }
  const mn = freshName(fnText, 'out_mn');
  const edits: OffsetEdit[] = gotos.map((g) => ({ start: g.at, end: g.at + g.len, newText: mn }));
  edits.push({ start: labelOff, end: labelOff, newText: `${mn}:\n${close}` });
  return edits;
}

/**
 * The 2012 patch's shape when early exits after the new start skip the unlock (write_protect_page(): `if (!ptep) goto
 * out;`): the range ends at a new label `out_mn:` just before the exit label that the unlock falls through to, and
 * the gotos to that exit label after the start go to `out_mn` instead.
 */
function endAtExitLabel(text: string, startAt: number, ends: number[], f: Finding, fnText: string, close: string): OffsetEdit[] | undefined {
  const last = Math.max(...ends);
  const fnEnd = text.indexOf('\n}', last);
  const lm = /^[ \t]*(\w+):/m.exec(text.slice(last, fnEnd < 0 ? undefined : fnEnd));
  if (!lm || lm[1] === 'default') return undefined;
  const label = lm[1];
  const labelOff = last + lm.index;
  // Every unlock falls through to the label (or jumps to it).
  for (const e of ends) {
    const between = text.slice(e, labelOff);
    if (/^\s*goto\s+\w+\s*;/.test(between) && new RegExp(`^\\s*goto\\s+${label}\\s*;`).test(between)) continue;
    let depth = 0;
    for (const c of between) depth += c === '{' ? 1 : c === '}' ? -1 : 0;
    if (depth !== 0 || /\b(return|goto|break|continue)\b/.test(between.replace(/^[ \t]*\w+:/gm, ''))) return undefined;
  }
  const re = new RegExp(`\\bgoto\\s+(${label})\\s*;`, 'g');
  // No jump to the label before the start: every path to it has the range open, so it ends right at the label
  // (__replace_page() in the 2012 patch).
  const fnStart = text.lastIndexOf('\n{', startAt);
  if (![...text.slice(Math.max(0, fnStart), startAt).matchAll(re)].length) {
    const afterLabel = text.indexOf('\n', labelOff) + 1;
    return afterLabel > 0 ? [{ start: afterLabel, end: afterLabel, newText: close }] : undefined;
  }
  const mn = freshName(fnText, 'out_mn');
  const edits: OffsetEdit[] = [];
  for (const m of text.slice(startAt, labelOff).matchAll(re)) {
    const at = startAt + m.index! + m[0].lastIndexOf(label);
    edits.push({ start: at, end: at + label.length, newText: mn });
  }
  if (!edits.length) return undefined;
  void f;
  edits.push({ start: labelOff, end: labelOff, newText: `${mn}:\n${close}` });
  return edits;
}

/**
 * Quick-fix 2a: a *_notify macro whose expansion sleeps, under the page-table lock, split the way 2ec74c3 (v3.7) split
 * it: for pmdp_clear_flush_notify() and the pre-v3.13 THP helpers, the range goes around the locked section (start
 * before the lock, end after each unlock) and the plain pmdp_clear_flush() stays where the macro was; for
 * ptep_clear_flush_notify() before v3.19 (invalidate_page), the plain ptep_clear_flush() stays and
 * mmu_notifier_invalidate_page() follows the unlock. Several shapes are tried when a verifier checks them.
 */
export function splitMacroFixes(text: string, f: Finding, api: RangeApi): FixProposal[] {
  const h = f.fix;
  const m = h?.macro;
  if (!h || !m || !m.splitEnds.length) return [];
  const fnText = functionTextAround(text, f);
  const callArgs = /\(([^;]*)\)\s*;?\s*$/.exec(text.slice(m.nameOffset, h.stmtEnd ?? m.nameOffset).replace(/\/\*.*?\*\//g, ''))?.[1]?.split(',').map((a) => a.trim()) ?? [];
  const vma = callArgs[0];
  const addr = callArgs[1];
  if (!vma || !addr) return [];
  const mm = /\bmm\b/.test(fnText) ? 'mm' : `${vma}->vm_mm`;
  const rename: OffsetEdit = { start: m.nameOffset, end: m.nameOffset + m.name.length, newText: m.plain };
  const title = `Split ${m.name}() as 2ec74c3 did: `;
  if (m.kind === 'page') {
    if (!inScope(fnText, mm) || !inScope(fnText, addr)) return [];
    // Inside a loop over addresses that holds the lock throughout (try_to_unmap_cluster), one invalidate_page after the
    // unlock would name the last address only: 2ec74c3 used a range there. Not this fix.
    if (h.lockStmtOffset !== undefined && endOutsideLoops(text, h.lockStmtOffset, m.nameOffset) !== m.nameOffset) return [];
    const edits = [rename, ...m.splitEnds.map((off) => ({ start: off, end: off, newText: `${indentOfPrevLine(text, off)}mmu_notifier_invalidate_page(${mm}, ${addr});\n` }))];
    return [{ title: `${title}plain ${m.plain}() under the lock, mmu_notifier_invalidate_page() after the unlock`, kind: 'quickfix', isPreferred: true, edits: normalizeEdits(edits) }];
  }
  if (h.lockStmtOffset === undefined) return [];
  const asRange: Finding = { ...f, fix: { ...h, kind: 'insert-range', startInsertOffset: h.lockStmtOffset, endInsertOffsets: m.splitEnds, args: [mm, addr] } };
  const out: FixProposal[] = [];
  for (const variant of ['plain', 'exit-label', 'split-exit', 'flag'] as const) {
    const r = insertRangeFix(text, asRange, api, variant, m.huge ? HPAGE_PMD_SPAN : PAGE_SPAN);
    if (r) out.push({ ...r, title: `${title}the range around the locked section, plain ${m.plain}() in place (${api.source})`, edits: normalizeEdits([...r.edits, rename]) });
  }
  return out;
}

/** Top-level comma-separated arguments of the first call in `call` ("f(a, g(b, c), d);" gives a, g(b, c), d). */
function topLevelArgs(text: string): string[] | undefined {
  const call = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const open = call.indexOf('(');
  if (open < 0) return undefined;
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = open + 1; i < call.length; i++) {
    const c = call[i];
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) {
        out.push(cur.trim());
        return out.map((a) => a.replace(/\s+/g, ' '));
      }
      depth--;
    } else if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  return undefined;
}

/** [line start, line end) of the statement `re` finds first in text[from, to). */
function statementAt(text: string, re: RegExp, from: number, to: number): [number, number] | undefined {
  const m = new RegExp(re.source, 'm').exec(text.slice(from, to));
  if (!m) return undefined;
  const start = from + m.index;
  const semi = text.indexOf(';', start);
  if (semi < 0 || semi > to) return undefined;
  return [lineStartOf(text, start), text.indexOf('\n', semi) + 1];
}

/**
 * Quick-fix 2b: range_start and range_end both made under one page-table lock (hugetlb_cow() before 2ec74c3): the
 * bracket goes around the locked section as 2ec74c3 wrote it. The start (with its bounds in mmun_start/mmun_end)
 * before the lock is taken; the end after the unlock that closes the section, or, where the function returns with
 * the lock held because its caller expects it, with the lock dropped and taken again around the end.
 */
export function bracketLockedSectionFix(text: string, f: Finding, api: RangeApi): FixProposal | undefined {
  const h = f.fix;
  if (!h || h.kind !== 'move-out-of-lock' || h.stmtStart === undefined || h.lockStmtOffset === undefined) return undefined;
  const lockLineEnd = text.indexOf('\n', h.lockStmtOffset);
  const lm = /^\s*spin_lock\s*\((.+)\)\s*;\s*(\/\*.*\*\/)?\s*$/.exec(text.slice(h.lockStmtOffset, lockLineEnd));
  if (!lm) return undefined;
  const lockArg = lm[1].trim();
  const fnEnd = text.indexOf('\n}', h.lockStmtOffset);
  const limit = fnEnd < 0 ? text.length : fnEnd;
  const start = statementAt(text, /^[ \t]*mmu_notifier_invalidate_range_start\s*\(/, lockLineEnd, limit);
  if (!start) return undefined;
  const end = statementAt(text, /^[ \t]*mmu_notifier_invalidate_range_end\s*\(/, start[1], limit);
  if (!end) return undefined;
  // The finding is one of the two, and no other unlock of the lock comes between them.
  if (h.stmtStart !== start[0] && h.stmtStart !== end[0]) return undefined;
  const between = text.slice(lockLineEnd, end[0]);
  if (between.includes('spin_unlock') || /\b(return|goto)\b/.test(text.slice(start[1], end[0]))) return undefined;
  const startArgs = topLevelArgs(text.slice(start[0], start[1]));
  const endArgs = topLevelArgs(text.slice(end[0], end[1]));
  if (!startArgs || !endArgs || startArgs.join(',') !== endArgs.join(',')) return undefined;
  // Where the locked section ends: the end's enclosing statement at the lock's own nesting level.
  let depth = 0;
  scanBraces(text, h.lockStmtOffset, end[0], (c) => {
    depth += c === '{' ? 1 : -1;
  });
  if (depth < 0) return undefined;
  let after = end[1];
  if (depth > 0) {
    const close = closingBrace(text, end[1], limit, depth);
    if (close < 0) return undefined;
    after = text.indexOf('\n', close) + 1;
  }
  const indent = indentOfLine(text, h.lockStmtOffset);
  const fnText = functionTextAround(text, f);
  const edits: OffsetEdit[] = [
    { start: start[0], end: start[1], newText: '' },
    { start: end[0], end: end[1], newText: '' },
  ];
  let open: string;
  let close: string;
  if (api.style === 'mmun' && startArgs.length === 3) {
    const simple = startArgs.slice(1).every((a) => /^[A-Za-z_]\w*$/.test(a));
    const sName = simple ? startArgs[1] : freshName(fnText, 'mmun_start');
    const eName = simple ? startArgs[2] : freshName(fnText, 'mmun_end');
    if (!simple) edits.push({ start: h.declInsertOffset, end: h.declInsertOffset, newText: `${h.indent}unsigned long ${sName}, ${eName};\n` });
    open = (simple ? '' : `${indent}${sName} = ${startArgs[1]};\n${indent}${eName} = ${startArgs[2]};\n`) +
      `${indent}mmu_notifier_invalidate_range_start(${startArgs[0]}, ${sName}, ${eName});\n`;
    close = `mmu_notifier_invalidate_range_end(${startArgs[0]}, ${sName}, ${eName});`;
  } else if (startArgs.length === 1) {
    open = `${indent}mmu_notifier_invalidate_range_start(${startArgs[0]});\n`;
    close = `mmu_notifier_invalidate_range_end(${startArgs[0]});`;
  } else return undefined;
  const at = aboveComment(text, h.lockStmtOffset);
  edits.push({ start: at, end: at, newText: `${open}\n` });
  // The section's own unlock right after it: the end follows it. Otherwise the caller's lock: drop and retake it.
  const next = /^[ \t]*spin_unlock\s*\((.+)\)\s*;[^\n]*\n/.exec(text.slice(after));
  if (next && next[1].trim() === lockArg) {
    const off = after + next[0].length;
    edits.push({ start: off, end: off, newText: `${indent}${close}\n` });
  } else {
    edits.push({ start: after, end: after, newText: `${indent}spin_unlock(${lockArg});\n${indent}${close}\n${indent}/* Caller expects lock to be held */\n${indent}spin_lock(${lockArg});\n` });
  }
  return {
    title: 'Bracket the locked section as 2ec74c3 did: range start before the lock, range end after the unlock',
    kind: 'quickfix',
    isPreferred: true,
    edits: normalizeEdits(edits),
  };
}

/** Quick-fix 2: move a sleeping notifier call before the lock (a range start) or after the unlock (anything else). */
export function moveOutOfLockFix(text: string, f: Finding): FixProposal | undefined {
  const h = f.fix;
  if (!h || h.kind !== 'move-out-of-lock' || h.stmtStart === undefined || h.stmtEnd === undefined) return undefined;
  const stmt = text.slice(h.stmtStart, h.stmtEnd);
  // Only whole simple statements: a line range holding one call statement.
  if (!/;\s*(\/\*.*\*\/\s*|\/\/.*)?$/.test(stmt.trimEnd()) || /[{}]/.test(stmt)) return undefined;
  const body = stmt.replace(/^[ \t]+/gm, '').replace(/\n$/, '');
  const callee = /\b(\w+)\s*\(/.exec(body)?.[1] ?? '';
  // A *_notify macro that also changes the page table (pmdp_clear_flush_notify) must stay under the lock: moving it
  // would clear the entry unlocked. 2ec74c3 split such macros instead (range around the lock, plain op in place).
  if (/_notify$/.test(callee) && !/^mmu_notifier_/.test(callee)) return undefined;
  const before = /start/.test(callee);
  const remove: OffsetEdit = { start: h.stmtStart, end: h.stmtEnd, newText: '' };
  if (before) {
    if (h.lockStmtOffset === undefined || h.lockStmtOffset >= h.stmtStart) return undefined;
    const ind = indentOfLine(text, h.lockStmtOffset);
    const moved = body.split('\n').map((l) => ind + l).join('\n') + '\n';
    return {
      title: `Move ${callee}() before the page-table lock is taken`,
      kind: 'quickfix',
      isPreferred: true,
      edits: normalizeEdits([{ start: h.lockStmtOffset, end: h.lockStmtOffset, newText: moved }, remove]),
    };
  }
  const ends = (h.unlockStmtEndOffsets ?? []).filter((o) => o > h.stmtEnd!);
  if (ends.length !== 1) return undefined; // several exits: moving would change which paths make the call
  const ind = indentOfPrevLine(text, ends[0]);
  const moved = body.split('\n').map((l) => ind + l).join('\n') + '\n';
  return {
    title: `Move ${callee}() after the page-table lock is released`,
    kind: 'quickfix',
    isPreferred: true,
    edits: normalizeEdits([remove, { start: ends[0], end: ends[0], newText: moved }]),
  };
}

/** Quick-fix 3: an inline suppression comment with a reason on the line above the finding. */
export function suppressFix(text: string, f: Finding, reason = 'TODO: say why this is safe'): FixProposal {
  const lines = text.split('\n');
  let off = 0;
  for (let i = 0; i < f.line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  const ind = /^[ \t]*/.exec(lines[f.line - 1] ?? '')![0];
  return {
    title: `Suppress ${f.rule} here (with a reason)`,
    kind: 'quickfix',
    edits: [{ start: off, end: off, newText: `${ind}${suppressionComment(f.rule, reason)}\n` }],
  };
}

/**
 * Checks a fix by re-analysing the rewritten text: true when the function is clean for the finding's rule, no worse
 * for the others, and parses with no new errors (see Project.checkRewrite). Absent: fixes are offered unchecked.
 */
export type FixVerifier = (newText: string, f: Finding) => boolean;

/**
 * All fixes for a finding, best first. With a verifier, a rewriting fix is offered only when it re-analyses clean:
 * the plain range first, then the flagged one (a conditional start), then moving the call; none when all fail.
 */
export function fixesFor(text: string, f: Finding, api: RangeApi, verify?: FixVerifier): FixProposal[] {
  const out: FixProposal[] = [];
  if (f.rule === 'nonblocking-invalidate-sleeps') {
    const fix = blockableFix(text, f);
    if (fix && (!verify || verify(applyEdits(text, fix.edits), f))) out.push(fix);
    out.push(suppressFix(text, f));
    return out;
  }
  if (f.noFix) {
    out.push(suppressFix(text, f));
    return out;
  }
  const splits = f.fix?.macro ? splitMacroFixes(text, f, api) : [];
  const candidates: Array<() => FixProposal | undefined> = [
    ...splits.map((x) => () => x),
    () => insertRangeFix(text, f, api),
    () => (verify ? insertRangeFix(text, f, api, 'exit-label') : undefined),
    () => (verify ? insertRangeFix(text, f, api, 'flag') : undefined),
    () => moveOutOfLockFix(text, f),
    () => bracketLockedSectionFix(text, f, api),
  ];
  for (const make of candidates) {
    const fix = make();
    if (!fix) continue;
    if (verify && !verify(applyEdits(text, fix.edits), f)) continue;
    out.push(fix);
    break;
  }
  out.push(suppressFix(text, f));
  return out;
}

/** Sorts edits by position, keeping the given order for equal positions (LSP applies same-position inserts in array order). */
function normalizeEdits(edits: OffsetEdit[]): OffsetEdit[] {
  return edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.i - b.i).map((x) => x.e);
}

/** Applies offset edits to a text (for tests and for checking a fix). */
export function applyEdits(text: string, edits: OffsetEdit[]): string {
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => b.e.start - a.e.start || b.i - a.i);
  let out = text;
  for (const { e } of sorted) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

/**
 * nonblocking-invalidate-sleeps: the callback tests the range's blockable flag before the statement that leads to the
 * sleep and bails out (-EAGAIN, or false for an interval notifier); when that statement is the callback's own sleeping
 * lock, it becomes lock-if-blockable-else-trylock-or-bail. Spelled for the callback's version (blockable, range->blockable,
 * mmu_notifier_range_blockable(range)). Offered only when the callback is in the finding's file.
 */
export function blockableFix(text: string, f: Finding): FixProposal | undefined {
  const b = f.blockableFix;
  if (!b || b.file !== f.file || b.offset < 0 || b.offset > text.length) return undefined;
  const ind = b.indent;
  const inner = ind + (ind.includes('\t') || !ind ? '\t' : '    ');
  if (b.lockCall) {
    const l = b.lockCall;
    return {
      title: `Take ${l.arg.replace(/^&/, '')} with ${l.trylock}() when the range is not blockable, and return ${b.bail} if it is busy`,
      kind: 'quickfix',
      isPreferred: true,
      edits: [{ start: l.stmtStart, end: l.stmtEnd, newText: `${ind}if (${b.cond})\n${inner}${l.name}(${l.arg});\n${ind}else if (!${l.trylock}(${l.arg}))\n${inner}return ${b.bail};` }],
    };
  }
  const neg = /^[\w.>-]+$|^\w+\([^()]*\)$/.test(b.cond) ? `!${b.cond}` : `!(${b.cond})`;
  return {
    title: `Return ${b.bail} from ${b.callback}() when the range is not blockable (test ${b.cond})`,
    kind: 'quickfix',
    isPreferred: true,
    edits: [{ start: b.offset, end: b.offset, newText: `${ind}if (${neg})\n${inner}return ${b.bail};\n` }],
  };
}
