export * from './schema.js';
export { type ConfigProblem, formatProblem, mergeConfig, parseConfigText, restrictWorkspaceConfig, validateConfig, withDefaults, closest } from './load.js';
export { ConfigService, workspaceConfigFile } from './service.js';
