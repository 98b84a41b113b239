// caret/shadow/* through a real daemon: create, exec (sandboxed), changes, three-way accept with
// a conflict, discard; bad input refused; the user's tree untouched until accept.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { MessageConnection } from 'vscode-jsonrpc';
import { connectUnix, initializeParams, makeTestEnv, startTestDaemon, type TestEnv } from '../helpers/index.js';
import { hashTree, makeUserTree } from './tree.js';

let env: TestEnv;
let daemon: Awaited<ReturnType<typeof startTestDaemon>>;
let client: MessageConnection;
let root: string;

before(async () => {
  env = makeTestEnv();
  root = join(env.dir, 'project');
  fs.mkdirSync(root);
  makeUserTree(root);
  daemon = await startTestDaemon(env);
  client = await connectUnix(env.paths.socketPath);
  await client.sendRequest('initialize', initializeParams());
  client.sendNotification('initialized', {});
});
after(async () => {
  client.dispose();
  await daemon.stop('test done');
  env.cleanup();
});

test('create, exec, changes, accept with merge and conflict, discard', async () => {
  const userHash = hashTree(root);
  const created = (await client.sendRequest('caret/shadow/create', { root })) as { id: string; mountPath: string; mode: string };
  assert.equal(created.mode, 'fuse');
  const exec = (await client.sendRequest('caret/shadow/exec', {
    id: created.id,
    command: ['sh', '-c', 'printf "one\\ntwo\\nthree\\nfour\\nFIVE\\n" > src/a.txt && echo new > added.txt && rm src/b.txt && echo "$HOME" && (echo x > /tmp/outside-check; touch "$0" 2>&1 || echo readonly)', join(root, 'README.md')],
  })) as { exitCode: number; stdout: string; view: string; isolation: string };
  assert.equal(exec.exitCode, 0, JSON.stringify(exec));
  assert.match(exec.stdout, /readonly|Read-only/);
  assert.equal(hashTree(root), userHash, 'exec wrote to the user tree');
  const { changes } = (await client.sendRequest('caret/shadow/changes', { id: created.id })) as { changes: Array<{ path: string; kind: string; diff: string }> };
  const byPath = Object.fromEntries(changes.map((c) => [c.path, c]));
  assert.equal(byPath['added.txt']?.kind, 'added');
  assert.equal(byPath['src/a.txt']?.kind, 'modified');
  assert.match(byPath['src/a.txt']!.diff, /-five\n\+FIVE/);
  assert.equal(byPath['src/b.txt']?.kind, 'deleted');

  // The user edits a.txt elsewhere (merges cleanly) and b.txt (conflicts with the deletion).
  fs.writeFileSync(join(root, 'src/a.txt'), 'ONE\ntwo\nthree\nfour\nfive\n');
  fs.writeFileSync(join(root, 'src/b.txt'), 'bee edited\n');
  const { results } = (await client.sendRequest('caret/shadow/accept', { id: created.id })) as { results: Array<{ path: string; status: string }> };
  const status = Object.fromEntries(results.map((r) => [r.path, r.status]));
  assert.equal(status['src/a.txt'], 'merged');
  assert.equal(status['added.txt'], 'applied');
  assert.equal(status['src/b.txt'], 'conflict');
  assert.equal(fs.readFileSync(join(root, 'src/a.txt'), 'utf8'), 'ONE\ntwo\nthree\nfour\nFIVE\n');
  assert.equal(fs.readFileSync(join(root, 'added.txt'), 'utf8'), 'new\n');
  assert.equal(fs.readFileSync(join(root, 'src/b.txt'), 'utf8'), 'bee edited\n');
  const again = (await client.sendRequest('caret/shadow/changes', { id: created.id })) as { changes: Array<{ path: string }> };
  assert.deepEqual(again.changes.map((c) => c.path), ['src/b.txt']);

  const listed = (await client.sendRequest('caret/shadow/list', {})) as { shadows: Array<{ id: string }> };
  assert.ok(listed.shadows.some((s) => s.id === created.id));
  await client.sendRequest('caret/shadow/discard', { id: created.id });
  assert.equal(fs.existsSync(created.mountPath), false);
});

test('bad input is refused with clear errors', async () => {
  const created = (await client.sendRequest('caret/shadow/create', { root })) as { id: string };
  const userHash = hashTree(root);
  await assert.rejects(client.sendRequest('caret/shadow/exec', { id: created.id, command: ['true'], cwd: '../..' }), /climbs out/);
  await assert.rejects(client.sendRequest('caret/shadow/exec', { id: created.id, command: ['true'], env: { LD_PRELOAD: 'x' } }), /LD_PRELOAD/);
  await assert.rejects(client.sendRequest('caret/shadow/changes', { id: created.id, paths: ['/etc/passwd'] }), /absolute/);
  await assert.rejects(client.sendRequest('caret/shadow/exec', { id: 'nope', command: ['true'] }), /no shadow/);
  await assert.rejects(client.sendRequest('caret/shadow/create', { root: join(env.dir, 'missing') }), /does not exist/);
  // A timed-out command is killed with its children.
  const slow = (await client.sendRequest('caret/shadow/exec', { id: created.id, command: ['sh', '-c', 'sleep 30 & sleep 30'], timeoutMs: 300 })) as { timedOut: boolean; durationMs: number };
  assert.equal(slow.timedOut, true);
  assert.ok(slow.durationMs < 5000);
  assert.equal(hashTree(root), userHash);
  await client.sendRequest('caret/shadow/discard', { id: created.id });
});
