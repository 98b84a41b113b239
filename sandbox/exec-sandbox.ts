// A held exec sandbox: one long-lived bubblewrap sandbox per shadow (per held overlay), running a
// small spawner (exec-spawner.ts) that starts each command on request. Building bubblewrap's
// namespaces, /dev and /proc costs about 4-15 ms per command here; a held sandbox pays that once,
// and each command then costs one process start inside it. The sandbox is the very one a one-shot
// command gets (bubblewrapSandboxArgs), entered in the same mount namespace (the held overlay's),
// so commands keep the same properties; the spawner keeps their limits (process group per command,
// killed on timeout or cancel; nothing left running once no command runs).
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';

/** The node script run inside the sandbox. */
export const spawnerScript = fileURLToPath(new URL('./exec-spawner.js', import.meta.url));

export interface SandboxCommand {
  argv: string[];
  /** Absolute, inside the shadow. */
  cwd: string;
  /** The full environment of the command (already sanitised). */
  env: Record<string, string>;
  maxOutputBytes: number;
  onChunk: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface SandboxOutcome {
  exitCode: number | null;
  signal: string | null;
  truncated: boolean;
  /** Why the command could not run, or why it ended without an exit status of its own. */
  error?: string;
}

/** A command running in the sandbox: kill() asks for its process group to go (TERM, then KILL). */
export interface SandboxRun {
  kill(): void;
  done: Promise<SandboxOutcome>;
}

interface Pending {
  command: SandboxCommand;
  resolve: (outcome: SandboxOutcome) => void;
}

type SpawnerMessage =
  | { ready: true }
  | { id: number; stream: 'stdout' | 'stderr'; data: string }
  | { id: number; exit: number | null; signal: string | null; truncated: boolean; error?: string };

export class ExecSandbox {
  private exited = false;
  private retired = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly exitHandlers: Array<() => void> = [];

  private readonly started: Promise<void>;
  private markReady: () => void = () => {};

  private constructor(private readonly child: ChildProcess) {
    child.stdin!.on('error', () => {});
    this.started = new Promise((resolve) => {
      this.markReady = resolve;
    });
    const decoder = new StringDecoder('utf8');
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += decoder.write(chunk);
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        this.receive(line);
      }
    });
    const gone = () => {
      if (this.exited) return;
      this.exited = true;
      // The spawner is gone, and with it its pid namespace: every command in it was killed.
      for (const [id, { resolve }] of this.pending) {
        this.pending.delete(id);
        resolve({ exitCode: null, signal: 'SIGKILL', truncated: false, error: 'the exec sandbox stopped while the command ran' });
      }
      for (const handler of this.exitHandlers.splice(0)) handler();
    };
    // A spawn that fails (no bwrap) reports 'error' and never 'exit'.
    child.on('exit', gone);
    child.on('error', gone);
  }

  /**
   * Starts `[...prefix, bwrap, ...bwrapArgs, node, spawner]` and waits for the spawner to say it is
   * ready. `prefix` enters the held overlay's mount namespace (nsenter ...), or is empty.
   */
  static start(options: { prefix: string[]; bwrapArgs: string[]; nodePath?: string; timeoutMs?: number }): Promise<ExecSandbox> {
    const argv = [...options.prefix, 'bwrap', ...options.bwrapArgs, '--', options.nodePath ?? process.execPath, spawnerScript];
    const timeoutMs = options.timeoutMs ?? 10_000;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      if (errors.length < 4096) errors += chunk.toString();
    });
    const sandbox = new ExecSandbox(child);
    return new Promise((resolve, reject) => {
      const fail = (message: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(message));
      };
      const timer = setTimeout(() => fail(`the exec sandbox did not start within ${timeoutMs} ms`), timeoutMs);
      child.on('error', (error) => fail(`cannot start the exec sandbox: ${error.message}`));
      const onExit = (code: number | null) => fail(`the exec sandbox exited (${code}) before it was ready: ${errors.trim() || 'no output'}`);
      child.once('exit', onExit);
      void sandbox.started.then(() => {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        sandbox.holdEventLoop(false);
        resolve(sandbox);
      });
    });
  }

  get alive(): boolean {
    return !this.exited && !this.retired;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Commands running now. */
  get running(): number {
    return this.pending.size;
  }

  onExit(handler: () => void): void {
    if (this.exited) handler();
    else this.exitHandlers.push(handler);
  }

  run(command: SandboxCommand): SandboxRun {
    const id = this.nextId++;
    const done = new Promise<SandboxOutcome>((resolve) => {
      if (this.exited) {
        resolve({ exitCode: null, signal: null, truncated: false, error: 'the exec sandbox is not running' });
        return;
      }
      this.pending.set(id, { command, resolve });
      this.holdEventLoop(true);
      this.write({ op: 'run', id, argv: command.argv, cwd: command.cwd, env: command.env, maxOutputBytes: command.maxOutputBytes });
    });
    return { kill: () => this.write({ op: 'kill', id }), done };
  }

  /** No new commands; the sandbox ends once the running ones have. */
  retire(): void {
    this.retired = true;
    if (this.pending.size === 0) this.stop();
  }

  /** Ends the sandbox and every command in it. */
  stop(): void {
    if (this.exited) return;
    this.child.stdin!.end();
    // A spawner that does not leave on end of input is killed (and its pid namespace with it).
    setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, 2000).unref();
  }

  /**
   * An idle sandbox must not keep the daemon (or a test) alive: its process and pipes hold the
   * event loop only while a command runs.
   */
  private holdEventLoop(hold: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as Array<{ ref(): void; unref(): void } | null>;
    for (const handle of handles) {
      if (hold) handle?.ref();
      else handle?.unref();
    }
  }

  private write(message: object): void {
    if (!this.exited) this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  private receive(line: string): void {
    let message: SpawnerMessage;
    try {
      message = JSON.parse(line) as SpawnerMessage;
    } catch {
      return;
    }
    if ('ready' in message && message.ready === true) {
      this.markReady();
      return;
    }
    if (!('id' in message) || typeof message.id !== 'number') return;
    const entry = this.pending.get(message.id);
    if (!entry) return;
    if ('stream' in message) {
      if ((message.stream === 'stdout' || message.stream === 'stderr') && typeof message.data === 'string') {
        entry.command.onChunk(message.stream, Buffer.from(message.data, 'base64'));
      }
      return;
    }
    if (!('exit' in message)) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.holdEventLoop(false);
    entry.resolve({
      exitCode: typeof message.exit === 'number' ? message.exit : null,
      signal: typeof message.signal === 'string' ? message.signal : null,
      truncated: message.truncated === true,
      ...(typeof message.error === 'string' && { error: message.error }),
    });
    if (this.retired && this.pending.size === 0) this.stop();
  }
}

/**
 * A shadow's place for one held sandbox: current() gives the running one, or starts one in the
 * background and gives undefined (the caller then runs the command the one-shot way, which costs
 * less than waiting for a sandbox to start). A dead sandbox (its spawner was killed) is replaced
 * the same way. A failed start is not retried for `retryAfterMs`.
 */
export class SandboxSlot {
  private sandbox?: ExecSandbox;
  private starting?: Promise<ExecSandbox | undefined>;
  private failedAt = -Infinity;
  private retired = false;
  /** Commands given a sandbox by current(), and whether a start was ever begun. */
  served = 0;
  begun = false;

  private idleTimer?: NodeJS.Timeout;

  constructor(
    private readonly start: () => Promise<ExecSandbox>,
    private readonly onFailure: (error: Error) => void = () => {},
    private readonly retryAfterMs = 30_000,
    /** A sandbox unused this long ends (a node process per shadow is not free); the next command starts one again. */
    private readonly idleMs = 10 * 60_000,
  ) {}

  current(): ExecSandbox | undefined {
    if (this.sandbox?.alive) {
      this.served++;
      this.endWhenIdle(this.sandbox);
      return this.sandbox;
    }
    this.sandbox = undefined;
    if (!this.retired && !this.starting && performance.now() - this.failedAt >= this.retryAfterMs) void this.startNow();
    return undefined;
  }

  /** The sandbox once the start under way (if any) is done; for tests and diagnostics. */
  async ready(): Promise<ExecSandbox | undefined> {
    if (this.starting) await this.starting;
    return this.sandbox?.alive ? this.sandbox : undefined;
  }

  retire(): void {
    this.retired = true;
    clearTimeout(this.idleTimer);
    this.sandbox?.retire();
    this.sandbox = undefined;
  }

  /** Starts one in the background now, if none is running or starting. */
  prepare(): void {
    if (!this.sandbox?.alive) this.current();
  }

  private endWhenIdle(sandbox: ExecSandbox): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.sandbox === sandbox) this.sandbox = undefined;
      sandbox.retire();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private startNow(): Promise<ExecSandbox | undefined> {
    this.begun = true;
    this.starting = this.start().then(
      (sandbox) => {
        this.starting = undefined;
        if (this.retired) sandbox.retire();
        else {
          this.sandbox = sandbox;
          this.endWhenIdle(sandbox);
        }
        return sandbox;
      },
      (error: Error) => {
        this.starting = undefined;
        this.failedAt = performance.now();
        this.onFailure(error);
        return undefined;
      },
    );
    return this.starting;
  }
}
