// Shadow workspaces: copy-on-write views of a workspace where agents edit, lint and test
// without touching the user's files (docs/shadow.md).
export { ShadowManager, ShadowError, decideMode, defaultShadowSettings, type ShadowInfo, type ShadowSettings, type ShadowMode, type ModeDecision } from './manager.js';
export type { ExecResult } from './exec.js';
export { findBubblewrap, canMountKernelOverlay } from './exec.js';
export type { FileChange, ChangeKind } from './changes.js';
export type { AcceptOutcome } from './accept.js';
export type { Diagnostic, FileDiagnostics } from './checkers.js';
export { UnsafePathError, safeRelativePath } from './safe-path.js';
export { loadFuseNative } from './native.js';
