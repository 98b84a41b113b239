// The daemon's side of a FUSE server process: start it, wait until the mount is ready, tell it to
// drop caches or unmount, and notice when it dies.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ClientMessage, MountRequest, PassthroughState, ServerMessage } from './fuse-server.js';
import { forceUnmount } from './mounts.js';

export interface Generations {
  view: number | null;
  upper: number | null;
}
const UNKNOWN: Generations = { view: null, upper: null };

/**
 * The kernel cache's state in the server (kernel-cache.ts): long validities on, both trees fully
 * watched, nodes tracked, notifications sent.
 */
export interface KernelCacheState {
  long: boolean;
  watched: boolean;
  nodes: number;
  sent: number;
  /** The kernel opens directories without asking (no OPENDIR round trip; see fuse-server.ts noOpendir). */
  noOpendir: boolean;
  /** Directory requests served with a handle made for them (the kernel's opens carry none). */
  dirWraps: number;
  /** Kernel passthrough of lower files' reads; null where the binding has none. */
  passthrough: PassthroughState | null;
}

const SERVER_SCRIPT = fileURLToPath(new URL('./fuse-server.js', import.meta.url));

export class FuseMount extends EventEmitter<{ exit: [code: number | null]; changed: [] }> {
  private exited = false;
  private requests = 0;
  private readonly pending = new Map<number, (value: Generations) => void>();
  private readonly pendingCache = new Map<number, (value: KernelCacheState | null) => void>();

  private constructor(
    readonly mountPath: string,
    private readonly child: ChildProcess,
    readonly whiteoutStyle: string,
  ) {
    super();
    child.on('exit', (code) => {
      this.exited = true;
      for (const answer of this.pending.values()) answer(UNKNOWN);
      this.pending.clear();
      for (const answer of this.pendingCache.values()) answer(null);
      this.pendingCache.clear();
      this.emit('exit', code);
    });
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'changed') this.emit('changed');
      else if (message.type === 'generation') {
        this.pending.get(message.request)?.({ view: message.value, upper: message.upper });
        this.pending.delete(message.request);
      } else if (message.type === 'cache') {
        this.pendingCache.get(message.request)?.({ long: message.long, watched: message.watched, nodes: message.nodes, sent: message.sent, noOpendir: message.noOpendir, dirWraps: message.dirWraps, passthrough: message.passthrough });
        this.pendingCache.delete(message.request);
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  static start(request: Omit<MountRequest, 'type'>, timeoutMs = 15_000): Promise<FuseMount> {
    const child = fork(SERVER_SCRIPT, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
      // The server must not inherit the daemon's inspector flags or heap limits.
      execArgv: [],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`FUSE server did not mount ${request.mountPath} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`FUSE server exited (${code}) before mounting: ${stderr.trim() || 'no output'}`));
      };
      child.once('exit', onExit);
      const onMessage = (message: ServerMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          child.off('exit', onExit);
          child.off('message', onMessage);
          resolve(new FuseMount(request.mountPath, child, message.whiteoutStyle));
        } else if (message.type === 'error') {
          clearTimeout(timer);
          child.off('exit', onExit);
          child.kill('SIGKILL');
          reject(new Error(message.message));
        }
      };
      child.on('message', onMessage);
      child.send({ type: 'mount', ...request } satisfies ClientMessage);
    });
  }

  /** Drops the server's cached directory states (after something else changed the upper layer). */
  invalidate(): void {
    if (this.alive) this.child.send({ type: 'invalidate' } satisfies ClientMessage);
  }

  /**
   * The server's change generations (see fuse-server.ts): equal answers mean nothing changed the
   * view (`view`) or the upper layer (`upper`) in between; null when unknown (or the server is gone).
   */
  generations(timeoutMs = 2000): Promise<Generations> {
    if (!this.alive) return Promise.resolve(UNKNOWN);
    const request = ++this.requests;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(request);
        resolve(UNKNOWN);
      }, timeoutMs);
      this.pending.set(request, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
      this.child.send({ type: 'generation', request } satisfies ClientMessage);
    });
  }

  /** The server's kernel cache state; null when the server is gone. */
  kernelCache(): Promise<KernelCacheState | null> {
    if (!this.alive) return Promise.resolve(null);
    const request = ++this.requests;
    return new Promise((resolve) => {
      this.pendingCache.set(request, resolve);
      this.child.send({ type: 'cache', request } satisfies ClientMessage);
    });
  }

  async stop(timeoutMs = 5000): Promise<void> {
    if (this.alive) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.send({ type: 'unmount' } satisfies ClientMessage);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    await forceUnmount(this.mountPath);
  }

  /** For tests: kill the server outright, as a crash would. */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}
