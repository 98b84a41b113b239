// Drives a real headless Neovim from node: `nvim --headless --listen SOCK`, spoken to over its
// msgpack-RPC socket. The plugin is installed the way docs/plugins.md shows for built-in
// packages (a pack/*/opt directory and `packadd caret`), with a private XDG environment so the
// editor and the daemon it starts touch nothing of the user's.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addExtension, Packr, UnpackrStream } from 'msgpackr';
import { cliPath, repoRoot, type TestEnv } from '../../helpers/index.js';

// Buffer, Window and Tabpage handles arrive as msgpack extensions 0, 1 and 2 holding an integer.
for (const type of [0, 1, 2]) {
  addExtension({ type, unpack: (buffer: Buffer) => new Packr().unpack(buffer) as number });
}

export const pluginDir = join(repoRoot, 'plugins/nvim');

export function nvimAvailable(): boolean {
  return spawnSync('nvim', ['--version'], { encoding: 'utf8' }).status === 0;
}

export function nvimVersion(): string {
  return spawnSync('nvim', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
}

export interface NvimOptions {
  /** Lua run after `packadd caret` (usually a setup{} call); CARET_CMD is the caret command list. */
  setup?: string;
  cwd?: string;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class NvimSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly packr = new Packr({ useRecords: false });
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  stderr = '';

  private constructor(readonly process: ChildProcess, private readonly socket: Socket) {
    const stream = new UnpackrStream({ useRecords: false, mapsAsObjects: true });
    socket.pipe(stream);
    stream.on('data', (message: unknown[]) => this.receive(message));
  }

  /** Starts Neovim with the plugin installed by packadd and `setup` run. */
  static async start(testEnv: TestEnv, options: NvimOptions = {}): Promise<NvimSession> {
    const dir = join(testEnv.dir, `nvim-${Math.random().toString(36).slice(2, 8)}`);
    const packDir = join(dir, 'site/pack/caret/opt');
    mkdirSync(packDir, { recursive: true });
    symlinkSync(pluginDir, join(packDir, 'caret'));
    const init = join(dir, 'init.lua');
    const caretCmd = `{ ${JSON.stringify(process.execPath)}, ${JSON.stringify(cliPath)}, 'lsp' }`;
    writeFileSync(
      init,
      [
        `vim.opt.packpath:prepend(${JSON.stringify(join(dir, 'site'))})`,
        'vim.opt.swapfile = false',
        'vim.opt.shada = ""',
        `CARET_CMD = ${caretCmd}`,
        'vim.cmd("packadd caret")',
        options.setup ?? 'require("caret").setup({ cmd = CARET_CMD })',
        '',
      ].join('\n'),
    );
    const socketPath = join(dir, 'nvim.sock');
    const child = spawn('nvim', ['--headless', '--listen', socketPath, '-i', 'NONE', '-u', init], {
      cwd: options.cwd ?? dir,
      env: { ...testEnv.env, NVIM_LOG_FILE: join(dir, 'nvim.log') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const deadline = Date.now() + 10_000;
    let socket: Socket | undefined;
    while (!socket && Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`nvim exited with ${child.exitCode}: ${stderr}`);
      socket = await new Promise<Socket | undefined>((resolve) => {
        const s = connect(socketPath);
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      if (!socket) await sleep(20);
    }
    if (!socket) {
      child.kill('SIGKILL');
      throw new Error(`nvim did not listen on ${socketPath}: ${stderr}`);
    }
    const session = new NvimSession(child, socket);
    child.stderr!.on('data', (chunk) => (session.stderr += chunk));
    return session;
  }

  private receive(message: unknown[]): void {
    const [kind] = message;
    if (kind === 1) {
      const [, id, error, result] = message as [number, number, unknown, unknown];
      const waiter = this.pending.get(id);
      if (!waiter) return;
      this.pending.delete(id);
      if (error) waiter.reject(new Error(`nvim: ${JSON.stringify(error)}`));
      else waiter.resolve(result);
    } else if (kind === 2) {
      const [, method, params] = message as [number, string, unknown];
      this.notifications.push({ method, params });
    }
  }

  request(method: string, ...params: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(this.packr.pack([0, id, method, params]));
    });
  }

  /** Runs Lua in the editor; `...` holds `args`. */
  lua<T = unknown>(code: string, ...args: unknown[]): Promise<T> {
    return this.request('nvim_exec_lua', code, args) as Promise<T>;
  }

  command(cmd: string): Promise<unknown> {
    return this.request('nvim_command', cmd);
  }

  /** Types keys as a user would (mappings apply). */
  input(keys: string): Promise<unknown> {
    return this.request('nvim_input', keys);
  }

  /** Feeds keys and processes them before returning (like :normal, for scripted steps). */
  feed(keys: string, mode = 'mtx'): Promise<unknown> {
    return this.lua(`vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(..., true, false, true), '${mode}', false)`, keys);
  }

  lines(): Promise<string[]> {
    return this.lua<string[]>('return vim.api.nvim_buf_get_lines(0, 0, -1, false)');
  }

  /** Polls a Lua expression until it is truthy; returns its value. */
  async waitFor<T = unknown>(expression: string, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      last = await this.lua(`return (function() ${expression} end)()`);
      if (last) return last as T;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${what} (last value ${JSON.stringify(last)}); nvim stderr: ${this.stderr}`);
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.command('qall!'), sleep(500)]);
    } catch {
      // quitting closes the socket under the request
    }
    this.socket.destroy();
    if (this.process.exitCode === null) {
      await Promise.race([new Promise((resolve) => this.process.once('exit', resolve)), sleep(2000)]);
      if (this.process.exitCode === null) this.process.kill('SIGKILL');
    }
  }
}
