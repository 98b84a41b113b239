// Every route group the daemon serves. A capability joins the protocol by adding its group here.
import type { Routes } from '../context.js';
import { applyRoutes } from './apply.js';
import { completionRoutes } from './completion.js';
import { daemonRoutes } from './daemon.js';
import { documentRoutes } from './documents.js';
import { lifecycleRoutes } from './lifecycle.js';
import { searchRoutes } from './search.js';
import { shadowRoutes } from './shadow.js';
import { workspaceRoutes } from './workspace.js';

export function allRoutes(servedMethods: () => string[]): Routes[] {
  const groups: Routes[] = [documentRoutes, workspaceRoutes, daemonRoutes, completionRoutes, applyRoutes, shadowRoutes, searchRoutes];
  return [lifecycleRoutes(servedMethods, groups), ...groups];
}
