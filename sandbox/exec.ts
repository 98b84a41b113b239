// Running a command inside a shadow: cwd in the shadow, a sanitised environment, time and output
// limits, cancellation that kills the whole process tree, and where bubblewrap is installed a
// sandbox in which only the shadow (and a scratch home) is writable and the network is off.
// Where the daemon may mount (root), the command sees a kernel overlay of the very same layers,
// mounted in a private mount namespace over the shadow's path, so toolchains run at native speed.
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { OutputCap, type OutputStream } from './output-cap.js';
import type { ExecSandbox } from './exec-sandbox.js';

export type ExecView = 'kernel-overlay' | 'fuse' | 'copy';
export type ExecIsolation = 'bubblewrap' | 'none';

export interface ExecRequest {
  argv: string[];
  /** Absolute working directory, inside `shadowPath`. */
  cwd: string;
  /** Where the shadow appears (FUSE mount point or copy directory). */
  shadowPath: string;
  /** What shadowPath is. */
  mode: 'fuse' | 'copy';
  /** A writable scratch HOME for the command. */
  scratchHome: string;
  timeoutMs: number;
  maxOutputBytes: number;
  env?: Record<string, string>;
  /** Client environment (PATH and the like), used for the allow-listed variables. */
  baseEnv?: Record<string, string | undefined>;
  isolation: ExecIsolation;
  allowNetwork: boolean;
  /** Mount a kernel overlay of these layers over shadowPath for the command. */
  kernelOverlay?: { lower: string; upper: string; work: string };
  /**
   * Or: the nsenter argv (without a command) that enters a mount namespace already holding that
   * overlay (OverlayHolder.acquire()); takes precedence over kernelOverlay.
   */
  enterOverlay?: string[];
  /**
   * A held sandbox of this shadow (exec-sandbox.ts) to run the command in, when it is alive and
   * the command does not ask for the network; and what it views (kernel-overlay, or mode).
   */
  heldSandbox?: ExecSandbox;
  heldSandboxView?: ExecView;
  signal?: AbortSignal;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
  view: ExecView;
  isolation: ExecIsolation;
}

const PASSED_VARIABLES = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'TERM'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables a caller may not set: they would let a command escape or subvert the sandbox. */
const FORBIDDEN = new Set(['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'NODE_OPTIONS', 'BASH_ENV', 'ENV']);

export function sanitisedEnv(base: Record<string, string | undefined>, extra: Record<string, string> | undefined, home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_VARIABLES) {
    const value = base[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  env.HOME = home;
  // A private temporary folder: the host's /tmp stays visible (read-only under bubblewrap), since
  // the user's tree or its dependency links may live there.
  env.TMPDIR = join(home, 'tmp');
  env.CI = '1';
  env.NO_COLOR = '1';
  env.TERM ??= 'dumb';
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (!ENV_NAME.test(name)) throw new Error(`environment variable name ${JSON.stringify(name)} is not valid`);
    if (FORBIDDEN.has(name)) throw new Error(`environment variable ${name} may not be set for a shadow command`);
    if (name === 'HOME') continue;
    env[name] = value;
  }
  return env;
}

let bwrapPath: string | null | undefined;
export function findBubblewrap(): string | null {
  if (bwrapPath !== undefined) return bwrapPath;
  const probe = spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-net', 'true'], { stdio: 'ignore', timeout: 5000 });
  bwrapPath = probe.status === 0 ? 'bwrap' : null;
  return bwrapPath;
}

let overlayCapable: boolean | undefined;
/** Can this process mount a kernel overlay in a private mount namespace (root, unshare present)? */
export function canMountKernelOverlay(): boolean {
  if (overlayCapable !== undefined) return overlayCapable;
  overlayCapable = false;
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore', timeout: 5000 });
  overlayCapable = probe.status === 0;
  return overlayCapable;
}

/** Overlay mount options cannot carry ',' or ':' in paths (nor newlines); such layers use the FUSE view. */
export function overlayOptions(layers: { lower: string; upper: string; work: string }): string | null {
  for (const path of [layers.lower, layers.upper, layers.work]) if (/[,:\n\\]/.test(path)) return null;
  // No redirect_dir/index/metacopy/xino: only the plain on-disk format the FUSE view also reads.
  return `lowerdir=${layers.lower},upperdir=${layers.upper},workdir=${layers.work},redirect_dir=off,index=off,metacopy=off,xino=off`;
}

const ROOT_FILE_CAPABILITIES = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID'];

/**
 * bubblewrap's sandbox of a shadow command, without the command's own environment and directory:
 * shared by the one-shot path (bubblewrapArgs) and the held sandbox (exec-sandbox.ts).
 */
export function bubblewrapSandboxArgs(request: { scratchHome: string; shadowPath: string; allowNetwork: boolean }): string[] {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  // The user's home and /tmp stay read-only (under the read-only /; a tmpfs over /tmp would hide
  // a workspace or node_modules link that lives there); the scratch home (with TMPDIR in it) and
  // the shadow are the only writable places.
  args.push('--bind', request.scratchHome, request.scratchHome);
  args.push('--bind', request.shadowPath, request.shadowPath);
  if (!request.allowNetwork) args.push('--unshare-net');
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--new-session');
  // Run by root, bubblewrap keeps root's capabilities unless told otherwise, and with CAP_SYS_ADMIN
  // a command could simply remount / read-write. Only the capabilities root needs to use files of
  // other users (a shadow of someone else's tree) are kept; none of them lifts a read-only mount.
  if (process.getuid?.() === 0) args.push('--cap-drop', 'ALL', ...ROOT_FILE_CAPABILITIES.flatMap((cap) => ['--cap-add', cap]));
  return args;
}

export function bubblewrapArgs(request: ExecRequest, env: Record<string, string>): string[] {
  const args = bubblewrapSandboxArgs(request);
  args.push('--clearenv');
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  args.push('--chdir', request.cwd, '--');
  return args;
}

/** A command started one way or the other: its output arrives through onChunk. */
interface Started {
  /** Ends the command's whole process tree (TERM, then KILL). */
  kill(): void;
  done: Promise<{ exitCode: number | null; signal: string | null; error?: string; truncated?: boolean }>;
}

/** The held sandbox takes a command when it is alive and the command needs nothing it lacks. */
function heldSandboxFor(request: ExecRequest): ExecSandbox | undefined {
  const held = request.heldSandbox;
  return held && held.alive && request.isolation === 'bubblewrap' && !request.allowNetwork ? held : undefined;
}

export function runInShadow(request: ExecRequest): Promise<ExecResult> {
  const started = performance.now();
  const env = sanitisedEnv(request.baseEnv ?? process.env, request.env, request.scratchHome);
  mkdirSync(env.TMPDIR!, { recursive: true });
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const cap = new OutputCap(request.maxOutputBytes);
  const onChunk = (stream: OutputStream, chunk: Buffer) => {
    const part = cap.take(stream, chunk);
    if (!part) return;
    out[stream].push(part);
    request.onOutput?.(stream, part.toString('utf8'));
  };

  const held = heldSandboxFor(request);
  let view: ExecView;
  let command: Started;
  if (held) {
    view = request.heldSandboxView ?? request.mode;
    const run = held.run({ argv: request.argv, cwd: request.cwd, env, maxOutputBytes: request.maxOutputBytes, onChunk });
    command = {
      kill: run.kill,
      done: run.done.then((outcome) => (outcome.error && outcome.exitCode === null && outcome.signal === null ? { ...outcome, exitCode: 127 } : outcome)),
    };
  } else {
    const launched = oneShot(request, env);
    view = launched.view;
    command = spawnOneShot(launched.command, launched.args, request, env, onChunk);
  }

  let timedOut = false;
  let cancelled = false;
  const timer = setTimeout(() => {
    timedOut = true;
    command.kill();
  }, request.timeoutMs);
  const onAbort = () => {
    cancelled = true;
    command.kill();
  };
  request.signal?.addEventListener('abort', onAbort, { once: true });
  if (request.signal?.aborted) onAbort();

  return command.done.then((outcome) => {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
    let stderr = Buffer.concat(out.stderr).toString('utf8');
    if (outcome.error) stderr += `${stderr ? '\n' : ''}${outcome.error}`;
    return {
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      stdout: Buffer.concat(out.stdout).toString('utf8'),
      stderr,
      truncated: cap.truncated || outcome.truncated === true,
      durationMs: Math.round(performance.now() - started),
      timedOut,
      cancelled,
      view,
      isolation: request.isolation,
    };
  });
}

/** The one-shot way: what to spawn (nsenter or unshare, then bubblewrap, then the command). */
function oneShot(request: ExecRequest, env: Record<string, string>): { command: string; args: string[]; view: ExecView } {
  let command: string;
  let args: string[];
  let view: ExecView = request.kernelOverlay || request.enterOverlay ? 'kernel-overlay' : request.mode;
  const inner: string[] = request.isolation === 'bubblewrap' ? ['bwrap', ...bubblewrapArgs(request, env), ...request.argv] : request.argv;
  const options = request.kernelOverlay ? overlayOptions(request.kernelOverlay) : null;
  if (request.enterOverlay) {
    // Entering a mount namespace resets the working directory; nsenter sets it again inside.
    view = 'kernel-overlay';
    [command, ...args] = [...request.enterOverlay, `--wd=${request.cwd}`, '--', ...inner] as [string, ...string[]];
  } else if (request.kernelOverlay && options) {
    // A private mount namespace: the overlay exists only for this command and vanishes with it.
    command = 'unshare';
    args = ['--mount', '--propagation', 'private', '--', 'sh', '-c',
      'mount -t overlay caret-shadow -o "$1" "$2" || exit 125; cd "$3" || exit 125; shift 3; exec "$@"',
      'sh', options, request.shadowPath, request.cwd, ...inner];
  } else {
    if (request.kernelOverlay) view = 'fuse';
    [command, ...args] = inner as [string, ...string[]];
  }
  return { command, args, view };
}

function spawnOneShot(command: string, args: string[], request: ExecRequest, env: Record<string, string>, onChunk: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): Started {
  const child = spawn(command, args, {
    cwd: request.cwd,
    env,
    detached: true, // its own process group, so the whole tree can be killed
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => onChunk('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => onChunk('stderr', chunk));
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const kill = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, 1500).unref();
  };
  const done = new Promise<{ exitCode: number | null; signal: string | null; error?: string }>((resolve) => {
    child.on('close', (code, signal) => {
      // Anything the command left running in its group goes too.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
      resolve({ exitCode: code, signal, ...(spawnError && { error: `cannot run ${request.argv[0]}: ${spawnError.message}` }) });
    });
  });
  return { kill, done };
}

export function defaultScratchHome(shadowDir: string): string {
  return `${shadowDir}/home`;
}

export const realHome = homedir();
