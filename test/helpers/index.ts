// Test harness: private XDG folders per test, a daemon in-process or as a real process, and real
// clients (vscode-jsonrpc over the Unix socket and stdio, ws for WebSocket).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMessageConnection, type MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node.js';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, type Encoding } from '../../protocol/index.js';
import { createLogger } from '../../daemon/log/index.js';
import { type RunningDaemon, startDaemon, readDaemonInfo, readToken } from '../../daemon/server/index.js';
import { type CaretPaths, resolvePaths } from '../../daemon/workspace/index.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const cliPath = join(repoRoot, 'dist/daemon/cli/main.js');

export interface TestEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  paths: CaretPaths;
  /** Writes the user's config.toml. */
  writeConfig(toml: string): void;
  cleanup(): void;
}

/** Private XDG folders under a short /tmp path (socket paths must stay under 108 bytes). */
export function makeTestEnv(): TestEnv {
  const dir = mkdtempSync('/tmp/caret-t-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
  };
  for (const key of ['HOME', 'XDG_RUNTIME_DIR', 'XDG_STATE_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME']) mkdirSync(env[key]!, { recursive: true, mode: 0o700 });
  const paths = resolvePaths(env);
  return {
    dir,
    env,
    paths,
    writeConfig: (toml) => {
      mkdirSync(paths.configDir, { recursive: true });
      writeFileSync(paths.configFile, toml);
    },
    // Retried: a daemon's last writes (logs, index files) may land while the folder is removed.
    cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }),
  };
}

/** A daemon in this process (fast; for most protocol tests). */
export const packageVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

export async function startTestDaemon(testEnv: TestEnv, options: { roots?: string[]; version?: string } = {}): Promise<RunningDaemon> {
  return startDaemon({
    paths: testEnv.paths,
    log: createLogger({ file: testEnv.paths.logFile, level: 'debug' }),
    version: options.version ?? packageVersion,
    foreground: true,
    roots: options.roots ?? [],
  });
}

/** A daemon as a real process (`caret daemon --foreground`), for crash and CLI tests. */
export async function spawnDaemonProcess(testEnv: TestEnv, args: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cliPath, 'daemon', '--foreground', ...args], { env: testEnv.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${output}`);
    if (readDaemonInfo(testEnv.paths)?.pid === child.pid && (await canConnect(testEnv.paths.socketPath))) return child;
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`daemon did not start: ${output}`);
}

export function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function waitForExit(child: ChildProcess, timeoutMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('process did not exit')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** vscode-jsonrpc over the Unix socket: the client library VS Code itself uses. */
export async function connectUnix(socketPath: string): Promise<MessageConnection> {
  const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
    const s = connect(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.listen();
  return connection;
}

export const initializeParams = (overrides: Record<string, unknown> = {}) => ({
  processId: process.pid,
  clientInfo: { name: 'caret-tests', version: '1' },
  rootUri: null,
  capabilities: { general: { positionEncodings: ['utf-16'] }, window: { workDoneProgress: true } },
  workspaceFolders: null,
  ...overrides,
});

/** A plain WebSocket JSON-RPC client, JSON or MessagePack frames. */
export class WsClient {
  private nextId = 1;
  private readonly pending = new Map<number | string, (message: Record<string, unknown>) => void>();
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  readonly frames: Array<{ binary: boolean; message: unknown }> = [];

  private constructor(readonly socket: WebSocket, private readonly encoding: Encoding) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const message = decodeMessage(isBinary ? data : data.toString('utf8'), isBinary ? 'msgpack' : 'json');
      this.frames.push({ binary: isBinary, message });
      for (const item of Array.isArray(message) ? message : [message]) {
        const object = item as Record<string, unknown>;
        if (object.method) this.notifications.push({ method: object.method as string, params: object.params });
        else if (object.id !== undefined) this.pending.get(object.id as number)?.(object);
      }
    });
  }

  static async connect(url: string, options: { token?: string; encoding?: Encoding; headers?: Record<string, string>; query?: string } = {}): Promise<WsClient> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const socket = new WebSocket(url + (options.query ?? ''), { headers });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { statusCode: response.statusCode })));
    });
    return new WsClient(socket, options.encoding ?? 'json');
  }

  sendRaw(message: unknown, encoding: Encoding = this.encoding): void {
    this.socket.send(encodeMessage(message, encoding), { binary: encoding === 'msgpack' });
  }

  /** Sends a request and resolves with the whole response object. */
  call(method: string, params?: unknown, id: number | string = this.nextId++): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.pending.set(id, (response) => {
        this.pending.delete(id);
        resolve(response);
      });
      this.sendRaw({ jsonrpc: '2.0', id, method, ...(params !== undefined && { params }) });
    });
  }

  async request(method: string, params?: unknown): Promise<unknown> {
    const response = await this.call(method, params);
    if (response.error) throw Object.assign(new Error((response.error as { message: string }).message), response.error);
    return response.result;
  }

  notify(method: string, params?: unknown): void {
    this.sendRaw({ jsonrpc: '2.0', method, ...(params !== undefined && { params }) });
  }

  /** Resolves with the next frame received (for raw protocol tests). */
  nextFrame(): Promise<{ binary: boolean; message: unknown }> {
    const count = this.frames.length;
    return new Promise((resolve) => {
      const check = () => (this.frames.length > count ? resolve(this.frames[count]!) : setTimeout(check, 2));
      check();
    });
  }

  close(): void {
    this.socket.close();
  }
}

export async function wsEndpoint(testEnv: TestEnv): Promise<{ url: string; token: string }> {
  const info = readDaemonInfo(testEnv.paths);
  const token = readToken(testEnv.paths.tokenFile);
  if (!info?.webSocketUrl || !token) throw new Error('daemon has no WebSocket endpoint');
  return { url: info.webSocketUrl, token };
}

export { sleep };
