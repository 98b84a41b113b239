// `caret index` and `caret search` as a user runs them: against a running daemon, and alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cliPath, makeTestEnv, spawnDaemonProcess, waitForExit } from '../helpers/index.js';
import { renderProgressLine } from '../../daemon/cli/index-commands.js';
import { tempDir, writeTree } from './helpers.js';

const run = (env: NodeJS.ProcessEnv, cwd: string, ...args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { env, cwd, encoding: 'utf8', timeout: 60_000 });

test('caret index and caret search work with and without a daemon', async () => {
  const testEnv = makeTestEnv();
  const ws = tempDir();
  writeTree(ws.dir, {
    'src/app.ts': 'export function startServer(port: number) {\n  return port;\n}\n',
    'lib/util.py': 'def start_server(port):\n    return port\n',
    '.gitignore': 'dist/\n',
    'dist/bundle.js': 'function startServer(){}\n',
  });
  try {
    // No daemon: the CLI indexes in-process and searches the database directly.
    const indexed = run(testEnv.env, ws.dir, 'index');
    assert.equal(indexed.status, 0, indexed.stderr);
    assert.match(indexed.stdout, /indexed .*: 3 files, \d+ chunks, 2 symbols/);
    assert.match(indexed.stdout, /skipped: 1 ignored/);
    const found = run(testEnv.env, ws.dir, 'search', 'startServer');
    assert.equal(found.status, 0, found.stderr);
    assert.match(found.stdout, /^lib\/util\.py:1:5/m);
    assert.match(found.stdout, /^src\/app\.ts:1:17  \(startServer\)/m);
    assert.doesNotMatch(found.stdout, /dist/);
    const filtered = run(testEnv.env, ws.dir, 'search', 'startServer', '--lang=python', '--json');
    assert.deepEqual(JSON.parse(filtered.stdout).map((r: { uri: string }) => r.uri.split('/').at(-1)), ['util.py']);
    const none = run(testEnv.env, ws.dir, 'search', 'noSuchThingAnywhere');
    assert.equal(none.status, 1);
    assert.equal(run(testEnv.env, ws.dir, 'search').status, 2);
    assert.equal(run(testEnv.env, ws.dir, 'search', 'x', '--limit=0').status, 2);
    const other = tempDir();
    const unindexed = run(testEnv.env, other.dir, 'search', 'x');
    assert.equal(unindexed.status, 3);
    assert.match(unindexed.stderr, /caret index/);
    other.cleanup();

    // With a daemon: the same commands go through it.
    const daemon = await spawnDaemonProcess(testEnv);
    try {
      const viaDaemon = run(testEnv.env, ws.dir, 'index', ws.dir, '--json');
      assert.equal(viaDaemon.status, 0, viaDaemon.stderr);
      const status = JSON.parse(viaDaemon.stdout);
      assert.equal(status.state, 'ready');
      assert.equal(status.files, 3);
      const searched = run(testEnv.env, `${ws.dir}/src`, 'search', 'start_server', '--json');
      assert.equal(searched.status, 0, searched.stderr);
      assert.equal(JSON.parse(searched.stdout).length, 2);
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
    }
  } finally {
    ws.cleanup();
    testEnv.cleanup();
  }
});

test('the progress line shows a bar, files/s and ETA', () => {
  assert.equal(renderProgressLine(undefined, 'scanning'), 'scanning: scanning files…');
  assert.equal(
    renderProgressLine({ phase: 'indexing', done: 500, total: 2000, percentage: 25, filesPerSecond: 1234.4, etaSeconds: 75 }, 'indexing'),
    '[########......................]  25% 500/2000 files, 1234/s, ETA 1m15s',
  );
  assert.equal(
    renderProgressLine({ phase: 'syntax', done: 2000, total: 2000, percentage: 100, filesPerSecond: 150 }, 'indexing'),
    '[##############################] 100% 2000/2000 files in the second pass (all searchable), 150/s',
  );
});
