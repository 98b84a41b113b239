// Where caret keeps its files, following the XDG base directories. Nothing is ever written into
// a user's workspace. Tests point the XDG variables at temporary folders.
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const uid = () => (typeof process.getuid === 'function' ? process.getuid() : 0);

export interface CaretPaths {
  /** Socket and pid file; private to the user (0700). */
  runtimeDir: string;
  socketPath: string;
  pidFile: string;
  /** Token, WebSocket endpoint, logs, trusted workspaces. */
  stateDir: string;
  tokenFile: string;
  webSocketFile: string;
  logFile: string;
  trustFile: string;
  /** User configuration. */
  configDir: string;
  configFile: string;
  /** Index databases and other rebuildable data. */
  cacheDir: string;
}

export function resolvePaths(environment: NodeJS.ProcessEnv = process.env): CaretPaths {
  const env = (name: string) => (environment[name] ? environment[name] : undefined);
  const home = env('HOME') ?? homedir();
  const runtimeDir = env('XDG_RUNTIME_DIR')
    ? join(env('XDG_RUNTIME_DIR')!, 'caret')
    : join(tmpdir(), `caret-${uid()}`);
  const stateDir = join(env('XDG_STATE_HOME') ?? join(home, '.local', 'state'), 'caret');
  const configDir = join(env('XDG_CONFIG_HOME') ?? join(home, '.config'), 'caret');
  const cacheDir = join(env('XDG_CACHE_HOME') ?? join(home, '.cache'), 'caret');
  return {
    runtimeDir,
    socketPath: join(runtimeDir, 'daemon.sock'),
    pidFile: join(runtimeDir, 'daemon.json'),
    stateDir,
    tokenFile: join(stateDir, 'token'),
    webSocketFile: join(stateDir, 'websocket.json'),
    logFile: join(stateDir, 'caret.log'),
    trustFile: join(stateDir, 'trusted-workspaces.json'),
    configDir,
    configFile: join(configDir, 'config.toml'),
    cacheDir,
  };
}

/** Unix socket paths are limited to 107 bytes plus a NUL on Linux (103 on macOS). */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107;
