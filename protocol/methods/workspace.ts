// Workspace-level notifications (LSP).
import { notification } from '../define.js';
import { Type } from '../schema.js';
import { WorkspaceFolder } from '../types.js';

export const didChangeWorkspaceFolders = notification({
  method: 'workspace/didChangeWorkspaceFolders',
  since: '0.1.0',
  doc: 'Workspace folders were added or removed on this connection. Added folders are indexed.',
  params: Type.Object({
    event: Type.Object({ added: Type.Array(WorkspaceFolder), removed: Type.Array(WorkspaceFolder) }),
  }),
});

export const didChangeConfiguration = notification({
  method: 'workspace/didChangeConfiguration',
  since: '0.1.0',
  doc:
    'The editor\'s settings changed. caret re-reads its configuration files at once, and takes ' +
    '`settings.caret` (same keys as config.toml) as this connection\'s own overrides; invalid keys are ' +
    'reported through `window/showMessage` and ignored.',
  params: Type.Object({ settings: Type.Unknown() }),
});
