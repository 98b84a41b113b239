// The models room: providers for every role, chosen in config.
export type { Embedder } from './embedder.js';
export * from './provider.js';
export * from './errors.js';
