// `caret lsp`: what editors launch. It connects to the user's daemon over the Unix socket,
// starting one if none answers, and relays bytes both ways (both sides use the same
// Content-Length framing, so nothing is parsed on the hot path). It first says hello with its
// version, so the daemon can tell the editor when the two differ. When the daemon goes away the
// relay exits, and the editor's client notices and restarts it.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import { encodeFrame } from '../../protocol/index.js';
import type { CaretPaths } from '../workspace/index.js';
import { readDaemonInfo } from './daemon.js';
import { socketAlive } from './single-instance.js';

function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => resolve(undefined));
  });
}

export interface ConnectOptions {
  paths: CaretPaths;
  /** Starts a background daemon process (the CLI knows how). */
  spawnDaemon: () => void;
  timeoutMs?: number;
}

/** Connects to the daemon, starting it when none answers. */
export async function connectOrStartDaemon(options: ConnectOptions): Promise<Socket> {
  const existing = await tryConnect(options.paths.socketPath);
  if (existing) return existing;
  options.spawnDaemon();
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    await sleep(50);
    const socket = await tryConnect(options.paths.socketPath);
    if (socket) return socket;
  }
  throw new Error(
    `the caret daemon did not start within ${options.timeoutMs ?? 15_000} ms; see ${options.paths.logFile}, or run \`caret daemon --foreground\` to watch it start`,
  );
}

export interface RelayOptions extends ConnectOptions {
  version: string;
  input: Readable;
  output: Writable;
  errors: Writable;
}

/** Relays until either side ends; resolves to the process exit code. */
export async function runRelay(options: RelayOptions): Promise<number> {
  const socket = await connectOrStartDaemon(options);
  socket.setNoDelay(true);
  const daemon = readDaemonInfo(options.paths);
  if (daemon && daemon.version !== options.version) {
    options.errors.write(
      `caret lsp ${options.version}: the running daemon is ${daemon.version} (pid ${daemon.pid}); run \`caret stop\` to restart it with this version\n`,
    );
  }
  socket.write(encodeFrame(JSON.stringify({ jsonrpc: '2.0', method: 'caret/relay/hello', params: { version: options.version, pid: process.pid } })));
  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number, message?: string) => {
      if (finished) return;
      finished = true;
      if (message) options.errors.write(message + '\n');
      options.input.unpipe(socket);
      socket.destroy();
      resolve(code);
    };
    options.input.pipe(socket, { end: false });
    socket.pipe(options.output, { end: false });
    // The editor closed our stdin: it is done with us.
    options.input.once('end', () => {
      socket.end();
      setTimeout(() => finish(0), 200).unref();
    });
    // The daemon ended the connection: after the editor's `exit` it is still alive (exit 0);
    // if it died, exit 1 so the editor's client notices and restarts us.
    const onDaemonSide = () => {
      if (finished) return;
      if (options.input.readableEnded) return finish(0);
      // Probe a moment later: a dying daemon's listening socket can still accept for an instant.
      void sleep(150).then(() => socketAlive(options.paths.socketPath, 500)).then((alive) =>
        finish(alive ? 0 : 1, alive ? undefined : 'caret lsp: the daemon went away; the editor will start it again'),
      );
    };
    socket.once('end', onDaemonSide);
    socket.once('close', onDaemonSide);
    socket.once('error', (error) => options.errors.write(`caret lsp: connection to the daemon failed: ${error.message}\n`));
  });
}
