// The daemon process: one per user, serving every editor over the Unix socket and scripts over
// WebSocket. Writes its pid file and WebSocket endpoint, exits when idle (background daemons
// only) or when stopped, and never lets one connection's bad input take it down.
import { readFileSync, renameSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { PROTOCOL_VERSION } from '../../protocol/index.js';
import type { Logger } from '../log/index.js';
import { type CaretPaths, rootPathOf, pathToUri } from '../workspace/index.js';
import { ensureToken } from './auth.js';
import { createRuntime, type Runtime } from './runtime.js';
import { claimSocket } from './single-instance.js';
import { listenUnixSocket } from './transports/unix-socket.js';
import { listenWebSocket } from './transports/websocket.js';

export interface DaemonOptions {
  paths: CaretPaths;
  log: Logger;
  version: string;
  /** Foreground daemons never exit for idleness. */
  foreground: boolean;
  /** Roots the daemon itself holds open (`caret daemon --foreground DIR`). */
  roots?: string[];
  /** Called once the daemon has stopped (the CLI exits the process). */
  onStopped?: (reason: string) => void;
}

export interface DaemonInfo {
  pid: number;
  version: string;
  protocolVersion: string;
  socketPath: string;
  webSocketUrl?: string;
  startedAt: string;
}

export interface RunningDaemon {
  info: DaemonInfo;
  runtime: Runtime;
  stop(reason: string): Promise<void>;
}

export function readDaemonInfo(paths: CaretPaths): DaemonInfo | undefined {
  try {
    return JSON.parse(readFileSync(paths.pidFile, 'utf8')) as DaemonInfo;
  } catch {
    return undefined;
  }
}

function writeJsonAtomically(file: string, value: unknown): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  renameSync(temporary, file);
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { paths, log } = options;
  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => (stopping ??= doStop(reason));
  // The runtime (which takes over shadow mounts, starts indexers...) is made only once this
  // process has won the socket: a daemon that finds another running must touch nothing.
  let created: Runtime | undefined;
  const unix = await claimSocket(paths.runtimeDir, paths.socketPath, () => {
    const made = (created = createRuntime({ paths, log, version: options.version, stopDaemon: (reason) => void stop(reason) }));
    return listenUnixSocket(paths.socketPath, made.hub, () => made.services.config.get().server.maxMessageBytes);
  }).catch(async (error) => {
    await created?.dispose();
    throw error;
  });
  const runtime = created!;
  const { services, hub } = runtime;
  const config = () => services.config.get();
  services.endpoints.socketPath = unix.path;

  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  const ws = config().server.websocket;
  const webSocket = ws.enabled
    ? await listenWebSocket({
        host: ws.host,
        port: ws.port,
        token: ensureToken(paths.tokenFile),
        allowedOrigins: () => config().server.websocket.allowedOrigins,
        maxMessageBytes: config().server.maxMessageBytes,
        hub,
        log,
      }).catch((error: Error) => {
        log.error('WebSocket listener failed; serving the socket only', { error: error.message, host: ws.host, port: ws.port });
        return undefined;
      })
    : undefined;
  if (webSocket) {
    services.endpoints.webSocketUrl = webSocket.url;
    writeJsonAtomically(paths.webSocketFile, { url: webSocket.url, port: webSocket.port, pid: process.pid, tokenFile: paths.tokenFile });
  }

  const info: DaemonInfo = {
    pid: process.pid,
    version: options.version,
    protocolVersion: PROTOCOL_VERSION,
    socketPath: unix.path,
    ...(webSocket && { webSocketUrl: webSocket.url }),
    startedAt: new Date(services.startedAt).toISOString(),
  };
  writeJsonAtomically(paths.pidFile, info);

  const heldRoots: string[] = [];
  for (const dir of options.roots ?? []) {
    const root = rootPathOf(pathToUri(dir));
    if (root) {
      services.roots.add(root);
      heldRoots.push(root);
    }
  }

  // Idle exit: a background daemon with no connections for idleTimeoutSeconds exits.
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdleTimer = () => {
    clearTimeout(idleTimer);
    const seconds = config().server.idleTimeoutSeconds;
    if (options.foreground || seconds === 0 || hub.sessions.size > 0) return;
    idleTimer = setTimeout(() => void stop(`idle for ${seconds} s`), seconds * 1000);
    idleTimer.unref?.();
  };
  hub.onChange(armIdleTimer);
  armIdleTimer();

  log.info('daemon started', { ...info, foreground: options.foreground });

  async function doStop(reason: string): Promise<void> {
    log.info('daemon stopping', { reason });
    clearTimeout(idleTimer);
    for (const root of heldRoots) services.roots.remove(root);
    await runtime.dispose();
    await Promise.all([unix.close(), webSocket?.close()]);
    // Remove our files only if they are still ours (a new daemon may have replaced them).
    if (readDaemonInfo(paths)?.pid === process.pid) {
      for (const file of [paths.pidFile, paths.webSocketFile]) {
        try {
          unlinkSync(file);
        } catch {
          // Already gone.
        }
      }
    }
    log.info('daemon stopped', { reason });
    options.onStopped?.(reason);
  }

  return { info, runtime, stop };
}
