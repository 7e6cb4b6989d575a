// The bound on one function's analysis: a time budget that every phase checks (CFG, relevance, liveness,
// post-dominators, exploration, summaries), and a bound on the states kept in memory. A function that hits either
// ends as "incomplete" with the reason, within about the budget.

export class BudgetExceeded extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class Budget {
  private ticks = 0;
  private readonly t0 = Date.now();
  constructor(readonly ms: number) {}

  /** Call in a hot loop of `phase`: looks at the clock every 256 calls and throws once the budget is spent. */
  tick(phase: string): void {
    if ((++this.ticks & 255) === 0) this.check(phase);
  }

  /** Throws when the budget is spent. */
  check(phase: string): void {
    if (Date.now() - this.t0 > this.ms) throw new BudgetExceeded(`time budget of ${this.ms} ms exceeded in ${phase}`);
  }

  spent(): boolean {
    return Date.now() - this.t0 > this.ms;
  }
}

/** States kept at once (all nodes together): beyond this the walk stops, whatever time is left. */
export const MAX_KEPT_STATES = 150000;
/** Value facts one state may carry: beyond this the fewest facts are kept (the others are forgotten, as at a join). */
export const MAX_FACTS_PER_STATE = 64;
