// Registry of the rules.
import { unbracketedChangePte } from './unbracketed-change-pte';
import { notifierUnderPtl } from './notifier-under-ptl';
import { rangeImbalance } from './range-imbalance';
import { atomicCallbackSleeps, intervalSequence, nonblockingInvalidateSleeps, registerUnderMmapLock } from './subscriber';
import type { Rule } from './types';

export const RULES: Rule[] = [unbracketedChangePte, notifierUnderPtl, rangeImbalance, nonblockingInvalidateSleeps, atomicCallbackSleeps, intervalSequence, registerUnderMmapLock];

export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.meta.id === id);
}
