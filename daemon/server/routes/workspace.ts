// Workspace folders and configuration changes.
import { MessageTypes } from '../../../protocol/index.js';
import { formatProblem, validateConfig, type ConfigInput } from '../../workspace/index.js';
import type { Routes } from '../context.js';
import { addRoot, removeRoot } from './lifecycle.js';

export const workspaceRoutes: Routes = {
  notifications: {
    'workspace/didChangeWorkspaceFolders': ({ event }, { session, services }) => {
      for (const folder of event.removed) removeRoot(session, services, folder.uri);
      for (const folder of event.added) addRoot(session, services, folder.uri);
    },
    'workspace/didChangeConfiguration': ({ settings }, { session, services }) => {
      const problems = services.config.reload();
      const editorSettings = (settings as { caret?: unknown } | null | undefined)?.caret;
      if (editorSettings && typeof editorSettings === 'object') {
        const checked = validateConfig(editorSettings, 'editor settings (caret)');
        session.configOverlay = checked.config as ConfigInput;
        problems.push(...checked.problems);
      }
      for (const problem of problems.filter((p) => p.severity === 'error')) {
        session.notify('window/showMessage', { type: MessageTypes.Error, message: `caret: ${formatProblem(problem)}` });
      }
    },
  },
};
