// The daemon as users meet it: WebSocket access control, several editors on one daemon,
// workspace folders and configuration, tracing, versions, crashes, restarts and idle exit.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ErrorCodes } from '../../protocol/index.js';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { readDaemonInfo } from '../../daemon/server/index.js';
import {
  canConnect,
  cliPath,
  initializeParams,
  makeTestEnv,
  sleep,
  spawnDaemonProcess,
  startTestDaemon,
  type TestEnv,
  waitForExit,
  WsClient,
  wsEndpoint,
} from '../helpers/index.js';
import { openClient, type SuiteClient } from './clients.js';

const run = promisify(execFile);
const caret = (testEnv: TestEnv, ...args: string[]) => run(process.execPath, [cliPath, ...args], { env: testEnv.env, timeout: 30_000 });

async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('daemon (in-process)', () => {
  let env: TestEnv;
  let daemon: RunningDaemon;
  const clients: SuiteClient[] = [];
  const open = async (transport: Parameters<typeof openClient>[0] = 'unix') => {
    const c = await openClient(transport, env);
    clients.push(c);
    return c;
  };

  before(async () => {
    env = makeTestEnv();
    env.writeConfig('[server.websocket]\nallowedOrigins = ["http://localhost:5173"]\n');
    daemon = await startTestDaemon(env);
  });
  after(async () => {
    for (const c of clients) c.close();
    await daemon.stop('done');
    env.cleanup();
  });

  test('WebSocket: a token is required (header or query), and web pages are refused', async () => {
    const { url, token } = await wsEndpoint(env);
    await assert.rejects(WsClient.connect(url), (error: { statusCode?: number }) => error.statusCode === 401);
    await assert.rejects(WsClient.connect(url, { token: 'f'.repeat(64) }), (error: { statusCode?: number }) => error.statusCode === 401);
    await assert.rejects(
      WsClient.connect(url, { token, headers: { origin: 'https://evil.example' } }),
      (error: { statusCode?: number }) => error.statusCode === 403,
    );
    const viaQuery = await WsClient.connect(url, { query: `?token=${token}` });
    assert.equal((await viaQuery.call('initialize', initializeParams())).error, undefined);
    viaQuery.close();
    const allowedPage = await WsClient.connect(url, { token, headers: { origin: 'http://localhost:5173' } });
    allowedPage.close();
    await assert.rejects(WsClient.connect(url.replace('/rpc', '/other'), { token }));
  });

  test('two editors share one daemon; documents stay per connection', async () => {
    const a = await open('stdio-relay');
    const b = await open('stdio-relay');
    await a.request('initialize', initializeParams({ clientInfo: { name: 'editor-a' } }));
    await b.request('initialize', initializeParams({ clientInfo: { name: 'editor-b' } }));
    const uri = 'file:///tmp/shared.txt';
    a.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'plaintext', version: 1, text: 'from a' } });
    assert.equal((await a.request('caret/document/text', { textDocument: { uri } })).text, 'from a');
    const failure = await b.request('caret/document/text', { textDocument: { uri } }).catch((error) => error);
    assert.equal(failure.code, ErrorCodes.DocumentNotOpen);
    const status = await a.request('caret/status');
    const names = status.connections.map((c: { client?: string }) => c.client);
    assert.ok(names.some((n: string) => n?.startsWith('editor-a')) && names.some((n: string) => n?.startsWith('editor-b')), JSON.stringify(names));
    assert.equal(status.pid, process.pid);
  });

  test('workspace folders: named in initialize, changed later, released on disconnect', async () => {
    const rootA = join(env.dir, 'ws-a');
    const rootB = join(env.dir, 'ws-b');
    mkdirSync(rootA);
    mkdirSync(rootB);
    const c = await open();
    await c.request('initialize', initializeParams({ workspaceFolders: [{ uri: pathToFileURL(rootA).href, name: 'a' }] }));
    assert.ok((await c.request('caret/status')).roots.includes(rootA));
    c.notify('workspace/didChangeWorkspaceFolders', {
      event: { added: [{ uri: pathToFileURL(rootB).href, name: 'b' }], removed: [{ uri: pathToFileURL(rootA).href, name: 'a' }] },
    });
    const roots = (await c.request('caret/status')).roots;
    assert.ok(roots.includes(rootB) && !roots.includes(rootA), JSON.stringify(roots));
    c.close();
    await eventually(() => !daemon.runtime.services.roots.list().includes(rootB), 'root released');
  });

  test('configuration: editor settings are validated, file changes reload and problems reach editors', async () => {
    const c = await open();
    await c.request('initialize', initializeParams());
    c.notify('workspace/didChangeConfiguration', { settings: { caret: { log: { levle: 'debug' } } } });
    const shown = await eventually(() => c.notifications.find((n) => n.method === 'window/showMessage'), 'showMessage');
    assert.match(shown.params.message, /log\.levle: is not a caret setting.*log\.level/);
    env.writeConfig('[server.websocket]\nport = "eighty"\n');
    const reloaded = await eventually(
      () => c.notifications.find((n) => n.method === 'window/showMessage' && /websocket\.port/.test(n.params.message)),
      'reload problem shown',
      5000,
    );
    assert.match(reloaded.params.message, /config\.toml: server\.websocket\.port: expected integer/);
    env.writeConfig('[server.websocket]\nallowedOrigins = ["http://localhost:5173"]\n');
  });

  test('$/setTrace makes the server trace requests through $/logTrace', async () => {
    // vscode-jsonrpc consumes $/logTrace itself, so watch it over WebSocket.
    const c = await open('websocket-json');
    await c.request('initialize', initializeParams());
    c.notify('$/setTrace', { value: 'verbose' });
    await c.request('caret/ping', { echo: 1 });
    const traces = await eventually(() => {
      const found = c.notifications.filter((n) => n.method === '$/logTrace');
      return found.length >= 2 ? found : undefined;
    }, 'traces');
    assert.match(traces[0]!.params.message, /Received request 'caret\/ping/);
    assert.match(traces[0]!.params.verbose, /"echo":1/);
  });

  test('doctor reports the foundation checks', async () => {
    const c = await open();
    await c.request('initialize', initializeParams());
    const { checks } = await c.request('caret/doctor');
    const byName = new Map(checks.map((check: { name: string }) => [check.name, check]));
    for (const name of ['node', 'runtime dir', 'socket', 'token', 'config']) assert.ok(byName.has(name), name);
    assert.equal((byName.get('token') as { status: string }).status, 'ok');
  });
});

describe('caret lsp --standalone', () => {
  test('exits 0 after shutdown and exit, 1 after exit alone (as LSP specifies)', async () => {
    const env = makeTestEnv();
    try {
      for (const [withShutdown, expected] of [[true, 0], [false, 1]] as const) {
        const c = await openClient('stdio-standalone', env);
        await c.request('initialize', initializeParams());
        if (withShutdown) await c.request('shutdown');
        c.notify('exit');
        const child = (c as unknown as { child: import('node:child_process').ChildProcess }).child;
        assert.equal(await waitForExit(child), expected, withShutdown ? 'shutdown then exit' : 'exit alone');
      }
    } finally {
      env.cleanup();
    }
  });
});

describe('relay and daemon versions', () => {
  test('a relay newer than the daemon is told how to restart it', async () => {
    const env = makeTestEnv();
    const daemon = await startTestDaemon(env, { version: '0.0.1-old' });
    try {
      const c = await openClient('stdio-relay', env);
      const warning = await eventually(() => c.notifications.find((n) => n.method === 'window/showMessage'), 'version warning');
      assert.match(warning.params.message, /running daemon is 0\.0\.1-old.*caret stop/);
      c.close();
    } finally {
      await daemon.stop('done');
      env.cleanup();
    }
  });
});

describe('daemon process', () => {
  test('CLI: daemon, status, rpc, doctor, stop', async () => {
    const env = makeTestEnv();
    try {
      const started = await caret(env, 'daemon');
      assert.match(started.stdout, /caret daemon started \(pid \d+\)/);
      assert.match((await caret(env, 'daemon')).stdout, /already running/);
      const mode = (path: string) => statSync(path).mode & 0o777;
      assert.equal(mode(env.paths.runtimeDir), 0o700, 'runtime dir private');
      assert.equal(mode(env.paths.socketPath), 0o600, 'socket private');
      assert.equal(mode(env.paths.tokenFile), 0o600, 'token private');
      const endpoint = JSON.parse(readFileSync(env.paths.webSocketFile, 'utf8')) as { url: string; port: number };
      assert.match(endpoint.url, /^ws:\/\/127\.0\.0\.1:\d+\/rpc$/);
      assert.ok(endpoint.port > 0, 'port 0 picked a free port and wrote it down');
      const status = await caret(env, 'status');
      assert.match(status.stdout, /caret \d+\.\d+\.\d+, pid \d+/);
      const pong = JSON.parse((await caret(env, 'rpc', 'caret/ping', '{"echo":"hi"}')).stdout);
      assert.equal(pong.echo, 'hi');
      await assert.rejects(caret(env, 'rpc', 'caret/ping', '{bad json'), /params are not valid JSON/);
      await assert.rejects(caret(env, 'rpc', 'caret/ping', '{"delayMs":"x"}'), /-32602.*params\.delayMs/);
      const doctor = JSON.parse((await caret(env, 'doctor', '--json')).stdout);
      assert.ok(doctor.checks.some((c: { name: string; status: string }) => c.name === 'daemon' && c.status === 'ok'));
      const pid = readDaemonInfo(env.paths)!.pid;
      if (process.platform === 'linux' && process.env.MALLOC_MMAP_THRESHOLD_ === undefined) {
        // glibc's malloc setting that lets the index's freed memory go back (docs/index.md, Memory).
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        assert.ok(environ.includes('MALLOC_MMAP_THRESHOLD_=131072'), 'the background daemon starts with a fixed mmap threshold');
      }
      assert.match((await caret(env, 'stop')).stdout, /stopped/);
      await eventually(() => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      }, 'daemon exit');
      assert.equal(existsSync(env.paths.pidFile), false, 'pid file removed');
      assert.match((await caret(env, 'stop')).stdout, /no caret daemon is running/);
      await assert.rejects(caret(env, 'status'), /no caret daemon is running/);
      await assert.rejects(caret(env, 'frobnicate'), /unknown command "frobnicate"/);
    } finally {
      env.cleanup();
    }
  });

  test('a crashed daemon: the relay exits, and the next relay starts a fresh one over the stale socket', async () => {
    const env = makeTestEnv();
    try {
      const first = await spawnDaemonProcess(env);
      const a = await openClient('stdio-relay', env);
      await a.request('initialize', initializeParams());
      first.kill('SIGKILL');
      await waitForExit(first);
      await a.closed;
      const relay = (a as unknown as { child: import('node:child_process').ChildProcess }).child;
      assert.equal(await waitForExit(relay), 1, 'relay exits non-zero so the editor restarts it');
      assert.ok(existsSync(env.paths.socketPath), 'stale socket left behind');
      const b = await openClient('stdio-relay', env);
      const result = await b.request('initialize', initializeParams());
      assert.equal(result.serverInfo.name, 'caret');
      const status = await b.request('caret/status');
      assert.notEqual(status.pid, first.pid);
      b.close();
      await caret(env, 'stop');
    } finally {
      env.cleanup();
    }
  });

  test('editors starting at once start one daemon', async () => {
    const env = makeTestEnv();
    try {
      const relays = await Promise.all([1, 2, 3].map(() => openClient('stdio-relay', env)));
      const pids = new Set<number>();
      for (const relay of relays) {
        await relay.request('initialize', initializeParams());
        pids.add((await relay.request('caret/status')).pid);
      }
      assert.equal(pids.size, 1, 'one daemon serves every editor');
      for (const relay of relays) relay.close();
      await caret(env, 'stop');
    } finally {
      env.cleanup();
    }
  });

  test('a background daemon exits when idle; a foreground one does not', async () => {
    const env = makeTestEnv();
    try {
      env.writeConfig('[server]\nidleTimeoutSeconds = 1\n');
      const foreground = await spawnDaemonProcess(env);
      await sleep(1500);
      assert.equal(foreground.exitCode, null, 'foreground daemon keeps running');
      foreground.kill('SIGTERM');
      assert.equal(await waitForExit(foreground), 0);
      await caret(env, 'daemon');
      const pid = readDaemonInfo(env.paths)!.pid;
      const c = await openClient('unix', env);
      await c.request('initialize', initializeParams());
      await sleep(1300);
      assert.ok(await canConnect(env.paths.socketPath), 'no idle exit while a connection is open');
      c.close();
      await eventually(() => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      }, 'idle exit', 8000);
    } finally {
      env.cleanup();
    }
  });

  test('trust: caret trust records the workspace', async () => {
    const env = makeTestEnv();
    try {
      const dir = join(env.dir, 'repo');
      mkdirSync(dir);
      assert.match((await caret(env, 'trust', dir)).stdout, /trusted: /);
      assert.match((await caret(env, 'trust', dir, '--revoke')).stdout, /no longer trusted/);
    } finally {
      env.cleanup();
    }
  });
});

