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
  let depth = 0;
  let paren = 0;
  let itemStart = 0;
  let bodyOpen = -1;
  let bodyStart = 0;
  // Only these characters matter: a native regex jumps from one to the next.
  const re = /[(){};]/g;
  for (let m = re.exec(mask); m; m = re.exec(mask)) {
    const i = m.index;
    const c = mask.charCodeAt(i);
    if (depth === 0) {
      if (c === 40) paren++;
      else if (c === 41) paren = Math.max(0, paren - 1);
      else if (c === 123 && paren === 0) {
        depth = 1;
        // A body when the previous significant character is ')'.
        let k = i - 1;
        for (let d = mask.charCodeAt(k); k >= 0 && (d === 32 || d === 10 || d === 9 || d === 13); d = mask.charCodeAt(--k));
        bodyOpen = k >= 0 && mask.charCodeAt(k) === 41 ? i : -1;
        bodyStart = itemStart;
      } else if (c === 59 && paren === 0) {
        itemStart = i + 1;
      }
      continue;
    }
    if (c === 123) depth++;
    else if (c === 125) {
      depth--;
      if (depth === 0) {
        if (bodyOpen >= 0) items.push({ start: bodyStart, end: i + 1, open: bodyOpen });
        itemStart = i + 1;
        paren = 0;
      }
    }
  }
  return items;
}

/** Converts offsets to tree-sitter ranges (rows and UTF-16 columns) with a line-start table. */
export function toRanges(text: string, spans: Array<[number, number]>, starts?: number[]): Range[] {
  const lineStarts = starts ?? lineStartsOf(text);
  const point = (off: number): Point => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= off) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: off - lineStarts[lo] };
  };
  return spans.map(([a, b]) => ({ startIndex: a, endIndex: b, startPosition: point(a), endPosition: point(b) }));
}

/** Offsets where each line starts. */
export function lineStartsOf(text: string): number[] {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return lineStarts;
}
