// The caret protocol: the wire contract and nothing else. Imports no daemon code.
export * from './schema.js';
export * from './types.js';
export * from './errors.js';
export * from './define.js';
export * from './framing.js';
export * from './codec.js';
export * from './version.js';
export * from './table.js';
export * from './render.js';
export { CaretInitializationOptions, ServerCapabilities } from './methods/lifecycle.js';
export { TextDocumentContentChangeEvent } from './methods/documents.js';
export { DoctorCheck } from './methods/daemon.js';
