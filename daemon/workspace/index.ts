// The workspace room: positions and their encodings, open documents, the edit history, roots,
// configuration, trust and where caret keeps its files.
export * from './positions.js';
export * from './text-document.js';
export * from './text-snapshot.js';
export * from './edit-history.js';
export * from './documents.js';
export * from './paths.js';
export * from './trust.js';
export * from './roots.js';
export * from './config/index.js';
