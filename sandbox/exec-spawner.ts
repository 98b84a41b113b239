// The spawner of a held exec sandbox (exec-sandbox.ts). It runs inside bubblewrap, as the first
// process of the sandbox's own pid namespace (bubblewrap's init is pid 1), and starts each command
// the daemon asks for, so a command no longer pays for building namespaces, /dev and /proc.
// Commands inherit everything bubblewrap set up for the spawner (read-only /, writable shadow and
// scratch home, no network, no_new_privs, no capabilities); each gets its own process group and
// session, the environment the daemon sent (already sanitised) and nothing of the spawner's own.
//
// Protocol, one JSON object per line. In (stdin):
//   {op: 'run', id, argv, cwd, env, maxOutputBytes}   start a command
//   {op: 'kill', id}                                   SIGTERM its process group, SIGKILL 1.5 s later
// Out (stdout):
//   {ready: true}                                      once, when it can take commands
//   {id, stream: 'stdout' | 'stderr', data: base64}    output, up to maxOutputBytes per stream
//   {id, exit: code | null, signal, truncated, error?} when its output is closed and it has exited
// End of input (the daemon closed the pipe, or died) ends every command and the spawner.
//
// Nothing a command leaves running survives into a later command: when a command ends, its process
// group is killed, and when no command is running at all, every other process in the pid namespace
// too (a process that left the group, e.g. with setsid). This file must import only Node's own
// modules and output-cap.ts (which imports nothing): it is started on its own by `node`, inside
// the sandbox.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { OutputCap, type OutputStream } from './output-cap.js';

interface RunMessage {
  op: 'run';
  id: number;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  maxOutputBytes: number;
}
interface KillMessage {
  op: 'kill';
  id: number;
}

const KILL_GRACE_MS = 1500;
/** After the command's own process exits, how long its output may take to drain. */
const DRAIN_MS = 500;
const running = new Map<number, ChildProcess>();

function send(message: object): void {
  // Writes to a pipe are synchronous on Linux, so lines never interleave.
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * True only when this process is the first child of bubblewrap's init in a pid namespace of its
 * own: only then may it sweep "every other process" (outside one, that would be the whole host).
 */
function inOwnPidNamespace(): boolean {
  try {
    return process.ppid === 1 && readFileSync('/proc/1/comm', 'utf8').trim() === 'bwrap';
  } catch {
    return false;
  }
}
const maySweep = inOwnPidNamespace();

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {}
}

/**
 * Kills every process of the namespace but bubblewrap's init and this one, when no command but
 * `except` (one whose own process has exited) is running.
 */
function sweep(except?: number): void {
  if (!maySweep || [...running.keys()].some((id) => id !== except)) return;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === 1 || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

function run(message: RunMessage): void {
  const { id } = message;
  const [command, ...args] = message.argv;
  if (running.has(id) || typeof command !== 'string' || command === '') {
    send({ id, exit: null, signal: null, truncated: false, error: 'bad run request' });
    return;
  }
  const child = spawn(command, args, {
    cwd: message.cwd,
    env: message.env,
    detached: true, // a process group (and session) of its own, so the whole tree can be killed
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.set(id, child);
  const cap = new OutputCap(message.maxOutputBytes);
  let error: string | undefined;
  const forward = (stream: OutputStream) => (chunk: Buffer) => {
    const part = cap.take(stream, chunk);
    if (part) send({ id, stream, data: part.toString('base64') });
  };
  child.stdout!.on('data', forward('stdout'));
  child.stderr!.on('data', forward('stderr'));
  child.on('error', (failure) => {
    // Node reports a missing working directory as the command missing.
    error = existsSync(message.cwd) ? `cannot run ${command}: ${failure.message}` : `cannot run ${command}: the working directory ${message.cwd} does not exist`;
  });
  // When the command's own process exits, the command is over, as when bubblewrap ran it alone
  // (its init then ends the namespace): what it started goes too, even what left its group and
  // still holds the output pipes, which would otherwise keep it "running" until the timeout.
  child.on('exit', () => {
    killGroup(child.pid, 'SIGKILL');
    sweep(id);
    setTimeout(() => {
      child.stdout!.destroy();
      child.stderr!.destroy();
    }, DRAIN_MS).unref();
  });
  child.on('close', (code, signal) => {
    running.delete(id);
    // Anything the command left running in its group goes too; and with no command left, the rest.
    killGroup(child.pid, 'SIGKILL');
    sweep();
    send({ id, exit: error ? null : code, signal, truncated: cap.truncated, ...(error && { error }) });
  });
}

function kill(message: KillMessage): void {
  const child = running.get(message.id);
  if (!child) return;
  killGroup(child.pid, 'SIGTERM');
  setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
}

function handle(line: string): void {
  let message: RunMessage | KillMessage;
  try {
    message = JSON.parse(line) as RunMessage | KillMessage;
  } catch {
    return;
  }
  if (message.op === 'run') run(message);
  else if (message.op === 'kill') kill(message);
}

createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', handle).on('close', () => {
  for (const child of running.values()) killGroup(child.pid, 'SIGKILL');
  running.clear();
  sweep();
  process.exit(0);
});
// A daemon that stopped reading is gone: leave rather than die on EPIPE later.
process.stdout.on('error', () => process.exit(0));
send({ ready: true });
