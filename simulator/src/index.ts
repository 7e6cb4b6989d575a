// Public API of the simulator: simulate a finding's witness path, render the trace, and the worked traces of hazards.md.
import { simulateFinding } from './simulate';
import { renderTraceText } from './trace';
import { workedTrace } from './worked';

export { simulateFinding, renderTraceText, workedTrace };
export { runVariant } from './simulate';
export { buildScenario } from './scenario';
export { fixPath } from './fix';
export { buildModel, enabledActions, applyAction } from './actors';
export { explore, demoSchedule } from './explore';
export { checkInvariants } from './invariants';
export { buildSteps, stateLine } from './trace';
export { compilePath } from './replay';
export type * from './types';
export type { WorkedTrace } from './worked';
export type { Model, Action, StepInfo } from './actors';
export { isSubscriberRule, resolveVariant, SUBSCRIBER_RULES } from './subscriber';
