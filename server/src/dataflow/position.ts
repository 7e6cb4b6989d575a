// Path events at syntax nodes: where an event happens (line, column, offsets) and the statement it belongs to.
import type { Node } from '../parse/syntax';
import type { Ev } from './state';

export function posOf(file: string, n: Node, event: Ev['event'], extra?: Partial<Ev>): Ev {
  const stmt = enclosingStatement(n);
  return {
    file,
    line: n.startPosition.row + 1,
    column: n.startPosition.column + 1,
    event,
    offset: n.startIndex,
    stmtStart: stmt.startIndex,
    stmtEnd: stmt.endIndex,
    ...extra,
  };
}

/** The statement (child of a block or case) that contains a node. */
export function enclosingStatement(n: Node): Node {
  let cur = n;
  for (let i = 0; i < 200; i++) {
    const p = cur.parent;
    if (!p) return cur;
    if (p.type === 'compound_statement' || p.type === 'case_statement' || p.type === 'translation_unit' || p.type === 'labeled_statement' ||
      p.type === 'preproc_if' || p.type === 'preproc_ifdef' || p.type === 'preproc_else' || p.type === 'preproc_elif') return cur;
    cur = p;
  }
  return cur;
}
