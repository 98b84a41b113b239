// The doctor checks of the foundation: Node, files and permissions, configuration.
import { accessSync, constants, statSync } from 'node:fs';
import { formatProblem } from '../workspace/index.js';
import type { DoctorCheckProvider, Services } from './context.js';

export function coreDoctorChecks(services: Services): Array<[string, DoctorCheckProvider]> {
  const { paths } = services;
  return [
    [
      'node',
      () => {
        const major = Number(process.versions.node.split('.')[0]);
        return major >= 20
          ? { name: 'node', status: 'ok', detail: `Node.js ${process.versions.node}` }
          : { name: 'node', status: 'error', detail: `Node.js ${process.versions.node} is too old`, fix: 'Install Node.js 20 or newer.' };
      },
    ],
    [
      'runtime dir',
      () => {
        try {
          const stat = statSync(paths.runtimeDir);
          const mode = stat.mode & 0o777;
          return mode === 0o700
            ? { name: 'runtime dir', status: 'ok', detail: `${paths.runtimeDir} (0700)` }
            : { name: 'runtime dir', status: 'warn', detail: `${paths.runtimeDir} has mode ${mode.toString(8)}`, fix: `chmod 700 ${paths.runtimeDir}` };
        } catch {
          return { name: 'runtime dir', status: 'warn', detail: `${paths.runtimeDir} does not exist yet`, fix: 'Start the daemon: caret daemon' };
        }
      },
    ],
    [
      'socket',
      () => {
        const socketPath = services.endpoints.socketPath;
        if (!socketPath) return { name: 'socket', status: 'warn', detail: 'this process does not listen on a socket (standalone mode)' };
        try {
          accessSync(socketPath, constants.R_OK | constants.W_OK);
          const mode = statSync(socketPath).mode & 0o777;
          return mode & 0o077
            ? { name: 'socket', status: 'warn', detail: `${socketPath} has mode ${mode.toString(8)}`, fix: `chmod 600 ${socketPath}` }
            : { name: 'socket', status: 'ok', detail: socketPath };
        } catch (error) {
          return { name: 'socket', status: 'error', detail: `${socketPath}: ${(error as Error).message}`, fix: 'Restart the daemon: caret stop; caret daemon' };
        }
      },
    ],
    [
      'token',
      () => {
        try {
          const mode = statSync(paths.tokenFile).mode & 0o777;
          return mode & 0o077
            ? { name: 'token', status: 'error', detail: `${paths.tokenFile} is readable by others (mode ${mode.toString(8)})`, fix: `chmod 600 ${paths.tokenFile}` }
            : { name: 'token', status: 'ok', detail: `${paths.tokenFile} (0600)` };
        } catch {
          return { name: 'token', status: 'warn', detail: `${paths.tokenFile} does not exist`, fix: 'It is created when the daemon starts with WebSocket enabled.' };
        }
      },
    ],
    [
      'config',
      () => {
        const problems = services.config.problems();
        if (problems.length === 0) return { name: 'config', status: 'ok', detail: `${paths.configFile} and workspace files are valid` };
        return problems.map((problem) => ({
          name: 'config',
          status: problem.severity === 'error' ? ('error' as const) : ('warn' as const),
          detail: formatProblem(problem),
          fix: problem.fix,
        }));
      },
    ],
  ];
}
