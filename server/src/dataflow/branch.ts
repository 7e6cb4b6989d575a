// Edge transfer: what taking the true or false edge out of a condition tells (locks and ranges whose guard it tests,
// facts about pure conditions and tested variables), and whether the edge is possible at all in a path state.
import type { CfgNode, EdgeKind } from '../cfg/build';
import { unwrap, normExpr, type Node } from '../parse/syntax';
import type { State } from './state';
import { evalVal } from './values';
import type { Prepared } from './prepare';

/** Applies what taking edge `kind` out of cond node `n` tells; false when the edge is impossible in this state. */
export function branch(prep: Prepared, s: State, n: CfgNode, kind: EdgeKind): boolean {
  const truth = kind === 'true';
  // Locks whose guard is this condition's helper call.
  if (s.locks.some((l) => l.guard?.node === n.id)) {
    s.locks = s.locks.flatMap((l) => {
      if (l.guard?.node !== n.id) return [l];
      const held = (l.guard.polarity === 'truthy') === truth;
      return held ? [{ ...l, guard: undefined }] : [];
    });
  }
  if (!n.syntax || n.preproc) return true;
  const atom = unwrap(n.syntax);
  const { tested, testTruth } = testedVariable(s, atom, truth);
  if (s.ranges.some((r) => r.guard && (r.guard.node === n.id || (tested && r.guard.v === tested)))) {
    s.ranges = s.ranges.flatMap((r) => {
      if (!r.guard || !(r.guard.node === n.id || (tested && r.guard.v === tested))) return [r];
      const t = r.guard.node === n.id ? truth : testTruth;
      return (r.guard.polarity === 'truthy') === t ? [{ site: r.site }] : [];
    });
  }
  if (tested && s.locks.some((l) => l.guard?.v === tested)) {
    s.locks = s.locks.flatMap((l) => {
      if (l.guard?.v !== tested) return [l];
      const held = (l.guard.polarity === 'truthy') === testTruth;
      return held ? [{ ...l, guard: undefined }] : [];
    });
  }
  return conditionFact(prep, s, n, truth) && valueFacts(prep, s, atom, truth, tested, testTruth);
}

/** Which variable is tested, and is it tested for truth (x, x != NULL) or falsity (x == NULL)? */
function testedVariable(s: State, atom: Node, truth: boolean): { tested: string | undefined; testTruth: boolean } {
  let tested: string | undefined;
  let testTruth = truth;
  if (atom.type === 'identifier' || atom.type === 'field_expression') tested = normExpr(atom.text);
  else if (atom.type === 'assignment_expression') tested = normExpr(atom.childForFieldName('left')?.text ?? '');
  else if (atom.type === 'binary_expression') {
    const op = atom.childForFieldName('operator')?.text;
    const l = atom.childForFieldName('left');
    const r = atom.childForFieldName('right');
    const isNull = (x: Node | null): boolean => !!x && (x.text === 'NULL' || x.text === '0' || x.type === 'null');
    if ((op === '==' || op === '!=') && l && r && (isNull(r) || isNull(l))) {
      const v = isNull(r) ? l : r;
      tested = normExpr(unwrap(v).type === 'assignment_expression' ? unwrap(v).childForFieldName('left')?.text ?? '' : v.text);
      testTruth = op === '!=' ? truth : !truth;
    } else if (l && r && unwrap(r).type === 'number_literal' && /^\d+$/.test(unwrap(r).text) && s.locks.some((x) => x.guard?.v === normExpr(unwrap(l).text))) {
      // A lock helper's result compared with its "locked" value: before v4.6 __pmd_trans_huge_lock() returned 1 with
      // the lock held, 0 or -1 without (`if (ret == 1)`, `if (ret > 0)`); any other answer means not held.
      const c = Number(unwrap(r).text);
      const holds = (op === '==' && c > 0) || (op === '>' && c === 0) || (op === '>=' && c === 1) ? truth : op === '!=' && c > 0 ? !truth : undefined;
      if (holds !== undefined) {
        tested = normExpr(unwrap(l).text);
        testTruth = holds;
      }
    }
  }
  return { tested, testTruth };
}

/** A pure condition tested again: its earlier answer decides the edge; else the answer on this edge becomes a fact. */
function conditionFact(prep: Prepared, s: State, n: CfgNode, truth: boolean): boolean {
  const ck = prep.condKeyOf.get(n.id);
  if (ck) {
    const known = s.facts.get(ck.key);
    const want = ck.negate ? !truth : truth;
    if (typeof known === 'number') {
      if ((known !== 0) !== want) return false;
    } else s.facts.set(ck.key, want ? 1 : 0);
  }
  return true;
}

/** The condition's value in this state decides the edge; else what the edge says about the tested variable becomes a fact. */
function valueFacts(prep: Prepared, s: State, atom: Node, truth: boolean, tested: string | undefined, testTruth: boolean): boolean {
  const v = evalVal(s, atom);
  if (typeof v === 'number') {
    if ((v !== 0) !== truth) return false;
  } else if (v === 'nz' && !truth) {
    return false;
  } else if (tested && prep.tracked.has(tested) && ((prep.varTests.get(tested) ?? 0) >= 2 || prep.flagVars.has(tested) || prep.guardVars.has(tested))) {
    const cur = s.facts.get(tested);
    if (!testTruth) {
      if (typeof cur === 'string') return false; // symbolic range bounds and 'nz' are non-zero
      s.facts.set(tested, 0);
    } else if (cur === undefined) s.facts.set(tested, 'nz');
  }
  return true;
}
