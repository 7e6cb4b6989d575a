// Where an unbracketed PTE change is reported: at the set_pte_at_notify() call, where the v3.7 fix (6bdb913f0a70) put
// the bracket, unless the analysed callers show the bracket-in-the-caller convention.
//
// For a function F that changes a PTE with no range of its own open (its summary has changePte):
// - F follows the convention when some analysed caller has a range open around its call of F;
// - then the report leaves F for the calls of F that have no range open, one level up, and the same question is asked
//   of each of those callers in turn; a call whose caller has no convention is where the report stays;
// - without the convention (no caller brackets, or no caller is known) the report is at F's own change.
// So every PTE change site gives reports at one level of the call graph only, never one per root.

/** A PTE change seen in an analysed function: its own set_pte_at_notify(), or a call of a function that changes one. */
export interface PteCall {
  /** "file\0name" of the called function; absent for the function's own set_pte_at_notify(). */
  viaKey?: string;
  /** Position of the call in the caller (several paths may reach one call). */
  site: string;
  /** A range is open around the call on this path. */
  bracketed: boolean;
}

export interface PlacementInput {
  /** "file\0name" of an analysed function. */
  key: string;
  calls: PteCall[];
}

export class PtePlacement {
  /** Called function -> its call sites: caller key and whether every path to the call has a range open. */
  private readonly callers = new Map<string, Map<string, { caller: string; bracketed: boolean }>>();
  private readonly conv = new Map<string, boolean>();
  /** Function -> the unbracketed changes in it: '' for its own, else the called function's key. */
  private readonly unbracketed = new Map<string, Set<string>>();
  private readonly arriving = new Map<string, boolean>();

  constructor(fns: Iterable<PlacementInput>) {
    for (const f of fns) {
      for (const c of f.calls) {
        if (!c.bracketed) {
          let u = this.unbracketed.get(f.key);
          if (!u) this.unbracketed.set(f.key, (u = new Set()));
          u.add(c.viaKey ?? '');
        }
        if (c.viaKey === undefined) continue;
        let sites = this.callers.get(c.viaKey);
        if (!sites) this.callers.set(c.viaKey, (sites = new Map()));
        const k = `${f.key}\0${c.site}`;
        const prev = sites.get(k);
        // A call some path reaches with no range open is an unbracketed call.
        sites.set(k, { caller: f.key, bracketed: c.bracketed && (prev?.bracketed ?? true) });
      }
    }
  }

  /** Does some analysed caller open the range around its call of `fn` (on every path to that call)? */
  convention(fn: string): boolean {
    let found = this.conv.get(fn);
    if (found !== undefined) return found;
    found = false;
    for (const s of this.callers.get(fn)?.values() ?? []) {
      if (!s.bracketed) continue;
      found = true;
      break;
    }
    this.conv.set(fn, found);
    return found;
  }

  /**
   * Does a report arrive at `fn` from below: it changes a PTE itself with no range open, or calls unbracketed a
   * function whose report moved up to its callers? (A callee that reported its own change does not report again
   * through its callers.)
   */
  private arrives(fn: string, visiting = new Set<string>()): boolean {
    const known = this.arriving.get(fn);
    if (known !== undefined) return known;
    if (visiting.has(fn)) return false;
    visiting.add(fn);
    let found = false;
    for (const via of this.unbracketed.get(fn) ?? []) {
      if (via === '' || (this.convention(via) && this.arrives(via, visiting))) {
        found = true;
        break;
      }
    }
    visiting.delete(fn);
    if (visiting.size === 0 || found) this.arriving.set(fn, found);
    return found;
  }

  /**
   * Is an unbracketed PTE change observed in function `fn` reported there? `viaKey` is the called function the change
   * happens in (the observation is at the call), absent when `fn` calls set_pte_at_notify() itself.
   */
  reportHere(fn: string, viaKey: string | undefined): boolean {
    // The callee reports its own change when its callers show no convention.
    if (viaKey !== undefined && !(this.convention(viaKey) && this.arrives(viaKey))) return false;
    // This function's callers own the bracket: the report moves up to those that do not open it.
    return !this.convention(fn);
  }
}
