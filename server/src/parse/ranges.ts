// Top-level items of a C file found on the masked text, so a batch run can parse only the functions that matter.
import type { Point, Range } from 'web-tree-sitter';

export interface TopItem {
  /** From the end of the previous top-level item (so return types, comments and annotations are included). */
  start: number;
  /** Just past the closing brace of the body. */
  end: number;
  /** Offset of the body's opening brace (the header is [start, open)). */
  open: number;
}

/**
 * Function definitions at file level: a `{` at brace and parenthesis depth 0 whose previous significant character
 * is `)`, up to its matching `}`. Works on the pre-pass mask (comments, strings and directives are spaces).
 */
export function functionItems(mask: string): TopItem[] {
  const items: TopItem[] = [];
  let paren = 0;
  let itemStart = 0;
  const n = mask.length;
  for (let i = 0; i < n; i++) {
    const c = mask.charCodeAt(i);
    if (c === 40) paren++;
    else if (c === 41) paren = Math.max(0, paren - 1);
    else if (c === 59 && paren === 0) itemStart = i + 1;
    else if (c === 123 && paren === 0) {
      // A body when the previous significant character is ')'.
      let k = i - 1;
      for (let d = mask.charCodeAt(k); k >= 0 && (d === 32 || (d >= 9 && d <= 13)); d = mask.charCodeAt(--k));
      const isBody = k >= 0 && mask.charCodeAt(k) === 41;
      // Inside braces only braces matter: jump from one to the next natively.
      let depth = 1;
      let j = i + 1;
      let nextOpen = mask.indexOf('{', j);
      let nextClose = mask.indexOf('}', j);
      while (depth > 0) {
        if (nextClose < 0) {
          j = n;
          break;
        }
        if (nextOpen >= 0 && nextOpen < nextClose) {
          depth++;
          nextOpen = mask.indexOf('{', nextOpen + 1);
        } else {
          depth--;
          j = nextClose;
          nextClose = mask.indexOf('}', nextClose + 1);
        }
      }
      if (depth > 0) break; // unterminated: no more items
      if (isBody) items.push({ start: itemStart, end: j + 1, open: i });
      itemStart = j + 1;
      paren = 0;
      i = j;
    }
  }
  return items;
}

/** Converts offsets to tree-sitter ranges (rows and UTF-16 columns) with the text's line-start table. */
export function toRanges(spans: Array<[number, number]>, lines: number[]): Range[] {
  return spans.map(([a, b]) => ({ startIndex: a, endIndex: b, startPosition: pointAt(lines, a), endPosition: pointAt(lines, b) }));
}

/** Row and UTF-16 column of an offset, as tree-sitter reports them, from a line-start table. */
export function pointAt(lines: number[], off: number): Point {
  const row = lastAtOrBefore(lines, off);
  return { row, column: off - lines[row] };
}

/** Index of the last element of an ascending array that is <= x (0 when none is; binary search). */
export function lastAtOrBefore(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Offsets where each line starts. */
export function lineStartsOf(text: string): number[] {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return lineStarts;
}
