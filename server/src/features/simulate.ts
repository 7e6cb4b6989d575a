// Optional link to the simulator bundle (dist/simulator.js, built from simulator/src/index.ts when it exists).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../engine/types';

/** The part of a simulation result the server reads (the rest goes to the client as it is). */
export interface SimulationVerdict {
  hazard: boolean;
  violations: Array<{ invariant: string }>;
  fixed: { hazard: boolean };
}

export interface SimulatorModule {
  simulateFinding(finding: Finding, opts: { subscriber?: string; kernelVersion?: string }): SimulationVerdict;
  renderTraceText(result: unknown): string;
}

let cached: SimulatorModule | null | undefined;

/** The simulator, loaded at run time so the server does not depend on it being built. */
export function loadSimulator(): SimulatorModule | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (const p of [join(__dirname, 'simulator.js'), join(__dirname, '..', 'dist', 'simulator.js')]) {
    if (!existsSync(p)) continue;
    try {
      const m = require(p) as Partial<SimulatorModule>;
      if (typeof m.simulateFinding === 'function' && typeof m.renderTraceText === 'function') cached = m as SimulatorModule;
    } catch {
      /* a broken bundle: no simulator */
    }
    break;
  }
  return cached;
}
