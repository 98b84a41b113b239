#!/usr/bin/env node
// The `caret` command.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../log/index.js';
import { stopModelWorkers } from '../models/index.js';
import { daemonMallocEnv } from '../index/index.js';
import {
  AlreadyRunningError,
  createRuntime,
  readDaemonInfo,
  readToken,
  runDoctorChecks,
  runRelay,
  serveFramedStream,
  socketAlive,
  startDaemon,
  type DoctorCheckResult,
} from '../server/index.js';
import { type CaretPaths, resolvePaths, setTrust, readTrustedRoots, canonicalPath } from '../workspace/index.js';
import { connectUnixClient, connectWebSocketClient } from './client.js';
import { parseArgs } from './args.js';
import { commandShadow } from './shadow-commands.js';
import { commandApply } from './apply-commands.js';
import { commandIndex, commandSearch } from './index-commands.js';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
export const VERSION = packageJson.version;
const mainScript = fileURLToPath(import.meta.url);

const HELP = `caret ${VERSION}: a local daemon for AI-assisted editing

Usage:
  caret daemon [--foreground] [DIR...]   start the daemon (background unless --foreground);
                                         DIRs are workspace roots it keeps open
  caret lsp [--standalone]               serve an editor over stdio (relays to the daemon,
                                         starting it if needed; --standalone serves in-process)
  caret status                           version, uptime, connections and roots
  caret stop                             stop the daemon
  caret doctor                           check the set-up and say what to fix
  caret rpc METHOD [JSON]                call a method over WebSocket and print the result
  caret trust [DIR] [--revoke]           let DIR's .caret/config.toml name providers and commands
  caret index [DIR] [--rebuild] [--json] index DIR (default: here), with live progress
  caret search QUERY [--mode=M] [--limit=N] [--path=GLOB,..] [--lang=ID,..] [--root=DIR] [--json]
                                         search the index (lexical, semantic or hybrid)
  caret apply FILE [SKETCH|-] [--strategy=auto|merge|model] [--json]
                                         merge a sketch into FILE; prints a unified diff
                                         (exit 1 when part of it was unresolved); never writes FILE
  caret shadow create|list|exec|diagnostics|changes|accept|discard ...
                                         shadow workspaces (see docs/shadow.md)
  caret --version | help

Files: socket and pid in $XDG_RUNTIME_DIR/caret (or /tmp/caret-UID); token, logs and trust in
$XDG_STATE_HOME/caret; config in $XDG_CONFIG_HOME/caret/config.toml. See docs/config.md.
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`caret: ${message}\n`);
  process.exit(code);
}

function spawnBackgroundDaemon(): void {
  const child = spawn(process.execPath, [mainScript, 'daemon', '--detached'], {
    detached: true,
    stdio: 'ignore',
    // glibc reads its malloc settings once, at start: this is where the index's freed memory is
    // made to go back to the system (docs/index.md, Memory).
    env: { ...process.env, ...daemonMallocEnv(process.env) },
    cwd: '/',
  });
  child.unref();
}

function installCrashGuards(log: Logger): void {
  // Output to a closed terminal or pipe is not worth dying for.
  process.stdout.on('error', () => undefined);
  // A bug in one request must not take every editor's session down with it.
  process.on('uncaughtException', (error) => log.error('uncaught exception', { error }));
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', { error: reason instanceof Error ? reason : String(reason) }));
}

async function commandDaemon(paths: CaretPaths, flags: Record<string, string | boolean>, dirs: string[]): Promise<void> {
  const foreground = flags.foreground === true;
  const detached = flags.detached === true;
  if (!foreground && !detached) {
    // `caret daemon`: start one in the background and report where it listens.
    if (await socketAlive(paths.socketPath)) {
      const info = readDaemonInfo(paths);
      process.stdout.write(`caret daemon already running (pid ${info?.pid ?? '?'}, socket ${paths.socketPath})\n`);
      return;
    }
    spawnBackgroundDaemon();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      // The pid file is written once every listener is up.
      if (readDaemonInfo(paths) && (await socketAlive(paths.socketPath, 200))) {
        const info = readDaemonInfo(paths);
        process.stdout.write(`caret daemon started (pid ${info?.pid ?? '?'})\n${connectHelp(paths)}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    fail(`the daemon did not start; see ${paths.logFile}`);
  }
  const log = createLogger({ file: paths.logFile, stderr: foreground, level: 'info' });
  installCrashGuards(log);
  let daemon;
  try {
    daemon = await startDaemon({
      paths,
      log,
      version: VERSION,
      foreground,
      roots: dirs.map((dir) => resolve(dir)),
      // The runtime is disposed; any model worker it did not own must still end before exit.
      onStopped: () => void stopModelWorkers().finally(() => process.exit(0)),
    });
  } catch (error) {
    if (error instanceof AlreadyRunningError) {
      if (detached) process.exit(0); // another editor started it first: fine
      fail(error.message, 2);
    }
    throw error;
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void daemon.stop(signal));
  if (foreground) {
    process.stdout.write(`caret ${VERSION} serving ${dirs.length ? dirs.map((d) => resolve(d)).join(', ') : '(no workspace yet)'} (pid ${process.pid}); Ctrl-C stops it\n${connectHelp(paths)}`);
  }
}

function connectHelp(paths: CaretPaths): string {
  const info = readDaemonInfo(paths);
  return [
    `  socket:    ${paths.socketPath}`,
    info?.webSocketUrl ? `  websocket: ${info.webSocketUrl}  (token: ${paths.tokenFile})` : '  websocket: off',
    '  editors:   run `caret lsp` as the language server command (see docs/plugins.md)',
    `  scripts:   caret rpc caret/status   or connect to the websocket with "Authorization: Bearer $(cat ${paths.tokenFile})"`,
    '',
  ].join('\n');
}

async function commandLsp(paths: CaretPaths, flags: Record<string, string | boolean>): Promise<void> {
  if (flags.standalone === true) {
    const log = createLogger({ file: paths.logFile, level: 'info' });
    installCrashGuards(log);
    // onnxruntime aborts the process when process.exit() ends a model worker mid-run, so every
    // way out disposes the runtime (model workers end themselves) before exiting, once.
    let exiting: Promise<void> | undefined;
    const exitAfterDispose = (code: number): Promise<void> =>
      (exiting ??= runtime
        .dispose()
        .catch(async (error: unknown) => {
          log.error('dispose failed on exit', { error: (error as Error).message });
          // Whatever else failed, the model workers must end before the process does.
          await runtime.services.models.dispose().catch(() => undefined);
        })
        .then(() => stopModelWorkers())
        .finally(() => process.exit(code)));
    const runtime = createRuntime({ paths, log, version: VERSION, stopDaemon: () => void exitAfterDispose(0) });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void exitAfterDispose(0));
    const session = serveFramedStream({
      input: process.stdin,
      output: process.stdout,
      transport: 'stdio',
      hub: runtime.hub,
      maxMessageBytes: runtime.services.config.get().server.maxMessageBytes,
      end: () => undefined,
    });
    // LSP: exit code 0 when `shutdown` came before the end, 1 otherwise.
    session.onClose(() => void exitAfterDispose(session.shutdownReceived ? 0 : 1));
    return;
  }
  const code = await runRelay({
    paths,
    version: VERSION,
    spawnDaemon: spawnBackgroundDaemon,
    input: process.stdin,
    output: process.stdout,
    errors: process.stderr,
  }).catch((error: Error) => fail(error.message));
  process.exit(code);
}

async function withDaemon<T>(paths: CaretPaths, action: (client: Awaited<ReturnType<typeof connectUnixClient>>) => Promise<T>): Promise<T> {
  if (!(await socketAlive(paths.socketPath))) fail('no caret daemon is running (start one with `caret daemon`)', 3);
  const client = await connectUnixClient(paths.socketPath, VERSION);
  try {
    return await action(client);
  } finally {
    client.close();
  }
}

async function commandStatus(paths: CaretPaths, flags: Record<string, string | boolean>): Promise<void> {
  const status = (await withDaemon(paths, (client) => client.request('caret/status'))) as {
    version: string; pid: number; uptimeMs: number; roots: string[]; webSocketUrl?: string; socketPath?: string;
    connections: Array<{ id: number; transport: string; client?: string; documents: number }>;
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(status, null, 2) + '\n');
    return;
  }
  const lines = [
    `caret ${status.version}, pid ${status.pid}, up ${formatDuration(status.uptimeMs)}`,
    `socket ${status.socketPath ?? '-'}; websocket ${status.webSocketUrl ?? 'off'}`,
    `roots: ${status.roots.length ? status.roots.join(', ') : '(none)'}`,
    `connections: ${status.connections.length - 1 /* this one */}`,
    ...status.connections
      .filter((c) => c.client !== 'caret-cli ' + VERSION)
      .map((c) => `  #${c.id} ${c.transport} ${c.client ?? '(unnamed)'}: ${c.documents} open documents`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

async function commandStop(paths: CaretPaths): Promise<void> {
  const info = readDaemonInfo(paths);
  if (!(await socketAlive(paths.socketPath))) {
    process.stdout.write('no caret daemon is running\n');
    return;
  }
  await withDaemon(paths, (client) => client.request('caret/daemon/stop'));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await socketAlive(paths.socketPath, 200))) await new Promise((r) => setTimeout(r, 50));
  if (await socketAlive(paths.socketPath, 200)) {
    if (info?.pid) process.kill(info.pid, 'SIGTERM');
  }
  process.stdout.write(`caret daemon stopped${info ? ` (pid ${info.pid})` : ''}\n`);
}

async function commandDoctor(paths: CaretPaths, flags: Record<string, string | boolean>): Promise<void> {
  let checks: DoctorCheckResult[];
  if (await socketAlive(paths.socketPath)) {
    const result = (await withDaemon(paths, (client) => client.request('caret/doctor'))) as { checks: DoctorCheckResult[] };
    checks = [{ name: 'daemon', status: 'ok', detail: `running (pid ${readDaemonInfo(paths)?.pid ?? '?'})` }, ...result.checks];
  } else {
    // No daemon: run the same checks in this process, so the set-up can be checked before a start.
    const log = createLogger({ level: 'error' });
    const runtime = createRuntime({ paths, log, version: VERSION, stopDaemon: () => undefined });
    checks = [
      { name: 'daemon', status: 'warn', detail: 'not running', fix: 'Start it with `caret daemon` (editors start it on demand through `caret lsp`).' },
      ...(await runDoctorChecks(runtime.services.doctorChecks)),
    ];
    await runtime.dispose();
  }
  if (flags.json) process.stdout.write(JSON.stringify({ checks }, null, 2) + '\n');
  else {
    for (const check of checks) {
      const mark = check.status === 'ok' ? 'ok   ' : check.status === 'warn' ? 'warn ' : 'ERROR';
      process.stdout.write(`${mark} ${check.name}: ${check.detail}${check.fix && check.status !== 'ok' ? `\n      fix: ${check.fix}` : ''}\n`);
    }
  }
  if (checks.some((check) => check.status === 'error')) process.exitCode = 1;
}

async function commandRpc(paths: CaretPaths, args: string[]): Promise<void> {
  const [method, json] = args;
  if (!method) fail('usage: caret rpc METHOD [JSON-PARAMS]');
  let params: unknown = null;
  if (json !== undefined) {
    try {
      params = JSON.parse(json);
    } catch (error) {
      fail(`params are not valid JSON: ${(error as Error).message}`);
    }
  }
  const info = readDaemonInfo(paths);
  if (!info?.webSocketUrl || !(await socketAlive(paths.socketPath))) fail('no caret daemon with WebSocket is running (start one with `caret daemon`)', 3);
  const token = readToken(paths.tokenFile);
  if (!token) fail(`cannot read the token file ${paths.tokenFile}`);
  const client = await connectWebSocketClient(info.webSocketUrl, token, VERSION);
  try {
    const result = await client.request(method, params);
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } catch (error) {
    const rpcError = error as { code?: number; message: string; data?: unknown };
    fail(`${method} failed${rpcError.code !== undefined ? ` (${rpcError.code})` : ''}: ${rpcError.message}${rpcError.data ? `\n${JSON.stringify(rpcError.data)}` : ''}`);
  } finally {
    client.close();
  }
}

function commandTrust(paths: CaretPaths, flags: Record<string, string | boolean>, args: string[]): void {
  const dir = canonicalPath(args[0] ?? '.');
  const revoke = flags.revoke === true;
  setTrust(paths.trustFile, dir, !revoke);
  process.stdout.write(revoke ? `no longer trusted: ${dir}\n` : `trusted: ${dir}\n  its .caret/config.toml may now name model providers, API-key variables and commands\n`);
  if (flags.list) process.stdout.write(readTrustedRoots(paths.trustFile).join('\n') + '\n');
}

export async function main(argv: string[]): Promise<void> {
  const { command, flags, args } = parseArgs(argv);
  if (flags.version || command === 'version') {
    process.stdout.write(`caret ${VERSION}\n`);
    return;
  }
  const paths = resolvePaths();
  switch (command) {
    case 'daemon':
      return commandDaemon(paths, flags, args);
    case 'lsp':
      return commandLsp(paths, flags);
    case 'status':
      return commandStatus(paths, flags);
    case 'stop':
      return commandStop(paths);
    case 'doctor':
      return commandDoctor(paths, flags);
    case 'rpc':
      return commandRpc(paths, args);
    case 'trust':
      return commandTrust(paths, flags, args);
    case 'index':
      process.exitCode = await commandIndex(paths, flags, args, VERSION);
      return;
    case 'search':
      process.exitCode = await commandSearch(paths, flags, args, VERSION);
      return;
    case 'apply':
      process.exitCode = await commandApply((action) => withDaemon(paths, action), flags, args, fail);
      return;
    case 'shadow':
      process.exitCode = await commandShadow((action) => withDaemon(paths, action), flags, args, argv, fail);
      return;
    case undefined:
    case 'help':
      process.stdout.write(HELP);
      return;
    default:
      fail(`unknown command "${command}"; run \`caret help\``, 2);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === mainScript) {
  main(process.argv.slice(2)).catch((error: Error) => fail(error.message));
}
