// Library entry of the engine (dist/engine.js): what the CLI, the language server and the tests use.
export * from './engine/types';
export { CParser, diffEdit } from './parse/parser';
export { prepass, maskText } from './parse/prepass';
export { functionItems } from './parse/ranges';
export { findFunctions, useRuntime } from './parse/syntax';
export { CfgBuilder } from './cfg/build';
export { printCfg, cfgToDot } from './cfg/print';
export { Project } from './engine/project';
export type { ProjectOptions, ProjectResult } from './engine/project';
export { KernelModel } from './kernel/model';
export { findKernelTree, parseVersion, versionFromMakefile, versionLabel } from './kernel/version';
export { DEFAULT_SETTINGS, normalizeSettings, RULE_IDS } from './config';
export type { Settings } from './config';
export { RULES, ruleById } from './rules';
export { findSuppression, suppressionComment } from './engine/suppress';
export { audit } from './engine/audit';
export type { AuditOptions } from './engine/audit';
