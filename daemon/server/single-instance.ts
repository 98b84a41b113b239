// One daemon per user. The socket itself tells whether a daemon is alive (it answers a connect);
// a short lock serialises the check-then-bind window, so two editors starting at once cannot
// start two daemons, and a socket left by a crashed daemon is detected and replaced.
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import lockfile from 'proper-lockfile';
import { join } from 'node:path';
import { MAX_SOCKET_PATH_BYTES } from '../workspace/index.js';

export class AlreadyRunningError extends Error {
  constructor(readonly socketPath: string) {
    super(`a caret daemon is already running (socket ${socketPath}); use it, or stop it with \`caret stop\``);
    this.name = 'AlreadyRunningError';
  }
}

/** Creates the runtime dir private to the user, or refuses one that is not. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory; remove it and start again`);
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user (uid ${stat.uid}); set XDG_RUNTIME_DIR to a folder of your own`);
  }
  if ((stat.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

export function checkSocketPath(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; set XDG_RUNTIME_DIR to a shorter folder`);
  }
}

/** True when something accepts connections on the socket. */
export function socketAlive(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Runs `bind` while holding the startup lock, after making sure no live daemon owns the socket
 * and removing a stale one. Throws AlreadyRunningError when a daemon answers.
 */
export async function claimSocket<T>(runtimeDir: string, socketPath: string, bind: () => Promise<T>): Promise<T> {
  ensurePrivateDir(runtimeDir);
  checkSocketPath(socketPath);
  const release = await lockfile.lock(runtimeDir, {
    lockfilePath: join(runtimeDir, 'startup.lock'),
    stale: 10_000,
    retries: { retries: 100, minTimeout: 50, maxTimeout: 200 },
  });
  try {
    if (await socketAlive(socketPath)) throw new AlreadyRunningError(socketPath);
    try {
      unlinkSync(socketPath);
    } catch {
      // No stale socket.
    }
    return await bind();
  } finally {
    await release().catch(() => undefined);
  }
}
