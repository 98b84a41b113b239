// The context room: prompts as trees of prioritised elements, rendered into a token budget with
// stable elements first (so prompt caches hit), duplicates and repeats of the cursor dropped.
export * from './elements.js';
export * from './tokens.js';
export { containment, meaningfulLines } from './similarity.js';
export * from './render.js';
export * from './format.js';
export * from './sources.js';
