// Shadow behaviour beyond the basic round trip: copy mode (forced by configuration), accepting a
// renamed file, idle collection, the count and size limits, exec output streamed as $/progress
// partial results, and the `caret shadow ...` CLI. The user's tree is hashed before and after.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { MessageConnection } from 'vscode-jsonrpc/node.js';
import { ShadowManager, defaultShadowSettings, type ShadowSettings } from '../../sandbox/index.js';
import { isMounted } from '../../sandbox/mounts.js';
import { cliPath, connectUnix, initializeParams, makeTestEnv, startTestDaemon, type TestEnv } from '../helpers/index.js';
import { hashTree, makeUserTree } from './tree.js';

interface Harness {
  env: TestEnv;
  root: string;
  client: MessageConnection;
  stop(): Promise<void>;
}

const harnesses: Harness[] = [];
after(async () => {
  for (const h of harnesses) await h.stop();
});

async function harness(configToml = ''): Promise<Harness> {
  const env = makeTestEnv();
  if (configToml) env.writeConfig(configToml);
  const root = join(env.dir, 'project');
  fs.mkdirSync(root);
  makeUserTree(root);
  const daemon = await startTestDaemon(env);
  const client = await connectUnix(env.paths.socketPath);
  await client.sendRequest('initialize', initializeParams());
  client.sendNotification('initialized', {});
  const h: Harness = {
    env,
    root,
    client,
    stop: async () => {
      client.dispose();
      await daemon.stop('test done');
      env.cleanup();
    },
  };
  harnesses.push(h);
  return h;
}

type Created = { id: string; mountPath: string; mode: string };
type Change = { path: string; kind: string; from?: string; diff: string };

describe('copy mode (shadow.mode = "copy")', () => {
  test('create, exec, changes, accept with merge and conflict, discard: the same interface as FUSE', async () => {
    const { client, root } = await harness('[shadow]\nmode = "copy"\n');
    const userHash = hashTree(root);
    const created = (await client.sendRequest('caret/shadow/create', { root })) as Created;
    assert.equal(created.mode, 'copy');
    assert.equal(isMounted(created.mountPath), false);
    assert.equal(fs.readFileSync(join(created.mountPath, 'src/a.txt'), 'utf8'), 'one\ntwo\nthree\nfour\nfive\n');
    const exec = (await client.sendRequest('caret/shadow/exec', {
      id: created.id,
      command: ['sh', '-c', 'printf "one\\ntwo\\nthree\\nfour\\nFIVE\\n" > src/a.txt && printf "bee\\nmore\\n" > src/b.txt && echo new > added.txt && rm tool.sh && mv src/deep/c.txt src/deep/sea.txt && pwd'],
    })) as { exitCode: number; stdout: string; view: string };
    assert.equal(exec.exitCode, 0);
    assert.equal(exec.view, 'copy');
    assert.equal(exec.stdout.trim(), created.mountPath);
    assert.equal(hashTree(root), userHash, 'exec wrote to the user tree');
    const { changes } = (await client.sendRequest('caret/shadow/changes', { id: created.id })) as { changes: Change[] };
    const kinds = Object.fromEntries(changes.map((c) => [c.path, c.kind]));
    assert.equal(kinds['src/a.txt'], 'modified');
    assert.equal(kinds['added.txt'], 'added');
    assert.equal(kinds['tool.sh'], 'deleted');
    assert.equal(kinds['src/deep/sea.txt'], 'added');
    assert.equal(kinds['src/deep/c.txt'], 'deleted');
    assert.match(changes.find((c) => c.path === 'src/a.txt')!.diff, /-five\n\+FIVE/);

    // You edit a.txt too: in copy mode the base is known only while your file is unchanged, so
    // that is a conflict (docs/shadow.md); b.txt, untouched by you, applies.
    fs.writeFileSync(join(root, 'src/a.txt'), 'ONE\ntwo\nthree\nfour\nfive\n');
    const { results } = (await client.sendRequest('caret/shadow/accept', { id: created.id })) as { results: Array<{ path: string; status: string }> };
    const status = Object.fromEntries(results.map((r) => [r.path, r.status]));
    assert.equal(status['src/a.txt'], 'conflict');
    assert.equal(status['src/b.txt'], 'applied');
    assert.equal(status['added.txt'], 'applied');
    assert.equal(status['tool.sh'], 'applied');
    assert.equal(fs.readFileSync(join(root, 'src/a.txt'), 'utf8'), 'ONE\ntwo\nthree\nfour\nfive\n');
    assert.equal(fs.readFileSync(join(root, 'src/b.txt'), 'utf8'), 'bee\nmore\n');
    assert.equal(fs.existsSync(join(root, 'tool.sh')), false);
    assert.equal(fs.readFileSync(join(root, 'src/deep/sea.txt'), 'utf8'), 'sea\n');
    const again = (await client.sendRequest('caret/shadow/changes', { id: created.id })) as { changes: Change[] };
    assert.deepEqual(again.changes.map((c) => c.path), ['src/a.txt']);
    await client.sendRequest('caret/shadow/discard', { id: created.id });
    assert.equal(fs.existsSync(created.mountPath), false);
  });
});

describe('renamed files', () => {
  test('accept moves the file in your tree; your edits to the old name merge into the new one', async () => {
    const { client, root } = await harness();
    const created = (await client.sendRequest('caret/shadow/create', { root })) as Created;
    assert.equal(created.mode, 'fuse');
    // Through the mount, as an editor or agent would.
    fs.renameSync(join(created.mountPath, 'src/a.txt'), join(created.mountPath, 'src/renamed.txt'));
    fs.writeFileSync(join(created.mountPath, 'src/renamed.txt'), 'one\ntwo\nthree\nfour\nFIVE\n');
    fs.mkdirSync(join(created.mountPath, 'moved'));
    fs.renameSync(join(created.mountPath, 'src/b.txt'), join(created.mountPath, 'moved/b.txt'));
    const userHash = hashTree(root);
    const { changes } = (await client.sendRequest('caret/shadow/changes', { id: created.id })) as { changes: Change[] };
    const renamed = changes.find((c) => c.path === 'src/renamed.txt');
    assert.equal(renamed?.kind, 'renamed');
    assert.equal(renamed?.from, 'src/a.txt');
    assert.match(renamed!.diff, /--- a\/src\/a\.txt\n\+\+\+ b\/src\/renamed\.txt/);
    assert.match(renamed!.diff, /-five\n\+FIVE/);
    assert.equal(changes.find((c) => c.path === 'moved/b.txt')?.from, 'src/b.txt');
    assert.ok(!changes.some((c) => c.path === 'src/a.txt' || c.path === 'src/b.txt'), 'a rename is not also a deletion');
    assert.equal(hashTree(root), userHash);

    // You edit the first line of a.txt in your tree meanwhile.
    fs.writeFileSync(join(root, 'src/a.txt'), 'ONE\ntwo\nthree\nfour\nfive\n');
    const { results } = (await client.sendRequest('caret/shadow/accept', { id: created.id })) as { results: Array<{ path: string; status: string }> };
    const status = Object.fromEntries(results.map((r) => [r.path, r.status]));
    assert.equal(status['src/renamed.txt'], 'merged');
    assert.equal(status['moved/b.txt'], 'applied');
    assert.equal(fs.readFileSync(join(root, 'src/renamed.txt'), 'utf8'), 'ONE\ntwo\nthree\nfour\nFIVE\n');
    assert.equal(fs.existsSync(join(root, 'src/a.txt')), false);
    assert.equal(fs.readFileSync(join(root, 'moved/b.txt'), 'utf8'), 'bee\n');
    assert.equal(fs.existsSync(join(root, 'src/b.txt')), false);
    await client.sendRequest('caret/shadow/discard', { id: created.id });
  });

  test('a rename conflicts when your edits to the old name overlap the shadow\'s', async () => {
    const { client, root } = await harness();
    const created = (await client.sendRequest('caret/shadow/create', { root })) as Created;
    fs.renameSync(join(created.mountPath, 'src/a.txt'), join(created.mountPath, 'src/renamed.txt'));
    fs.writeFileSync(join(created.mountPath, 'src/renamed.txt'), 'one\ntwo\nthree\nfour\nFIVE\n');
    fs.writeFileSync(join(root, 'src/a.txt'), 'one\ntwo\nthree\nfour\nfive!\n');
    const userHash = hashTree(root);
    const { results } = (await client.sendRequest('caret/shadow/accept', { id: created.id })) as { results: Array<{ path: string; status: string; message?: string }> };
    assert.equal(results.find((r) => r.path === 'src/renamed.txt')?.status, 'conflict');
    assert.equal(hashTree(root), userHash, 'a conflicting accept wrote to the user tree');
    await client.sendRequest('caret/shadow/discard', { id: created.id });
  });
});

describe('limits and idle collection (ShadowManager)', () => {
  const base = fs.mkdtempSync('/tmp/caret-sl-');
  after(() => fs.rmSync(base, { recursive: true, force: true }));
  let counter = 0;
  function setup(overrides: Partial<ShadowSettings>) {
    const dir = join(base, String(counter++));
    const root = join(dir, 'project');
    fs.mkdirSync(root, { recursive: true });
    makeUserTree(root);
    const manager = new ShadowManager(join(dir, 'state'), () => ({ ...defaultShadowSettings, ...overrides }));
    return { root, manager };
  }

  test('idle shadows are collected after shadow.idleMinutes, busy ones and idleMinutes = 0 never', async () => {
    const { root, manager } = setup({ idleMinutes: 1 });
    await manager.start();
    try {
      const userHash = hashTree(root);
      const a = await manager.create(root);
      const b = await manager.create(root);
      assert.deepEqual(await manager.collectIdle(Date.now() + 30_000), []);
      // A command still running keeps its shadow alive however old it is.
      const running = manager.exec(a.id, { command: ['sleep', '1'] });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(await manager.collectIdle(Date.now() + 61_000), [b.id]);
      assert.equal(fs.existsSync(b.mountPath), false);
      assert.equal(isMounted(b.mountPath), false);
      await running;
      assert.deepEqual(await manager.collectIdle(Date.now() + 61_000), [a.id]);
      assert.equal(isMounted(a.mountPath), false);
      assert.deepEqual(await manager.list(), []);
      assert.equal(hashTree(root), userHash);
    } finally {
      await manager.dispose();
    }
    const never = setup({ idleMinutes: 0 });
    await never.manager.start();
    try {
      const kept = await never.manager.create(never.root);
      assert.deepEqual(await never.manager.collectIdle(Date.now() + 365 * 24 * 3600_000), []);
      await never.manager.discard(kept.id);
    } finally {
      await never.manager.dispose();
    }
  });

  test('shadow.maxUpperBytes stops exec once a shadow holds more (FUSE), and refuses too big a copy', async () => {
    const { root, manager } = setup({ maxUpperBytes: 1024 * 1024 });
    await manager.start();
    try {
      const shadow = await manager.create(root);
      assert.equal((await manager.exec(shadow.id, { command: ['true'] })).exitCode, 0);
      fs.writeFileSync(join(shadow.mountPath, 'big.bin'), Buffer.alloc(2 * 1024 * 1024, 1));
      await assert.rejects(manager.exec(shadow.id, { command: ['true'] }), (error: Error & { kind?: string }) => error.kind === 'limit' && /maxUpperBytes/.test(error.message));
      // Deleting the file frees the room again.
      fs.unlinkSync(join(shadow.mountPath, 'big.bin'));
      assert.equal((await manager.exec(shadow.id, { command: ['true'] })).exitCode, 0);
      await manager.discard(shadow.id);
    } finally {
      await manager.dispose();
    }
    const copy = setup({ mode: 'copy', maxUpperBytes: 1024 * 1024 });
    fs.writeFileSync(join(copy.root, 'large.bin'), Buffer.alloc(2 * 1024 * 1024, 2));
    await copy.manager.start();
    try {
      await assert.rejects(copy.manager.create(copy.root), /maxUpperBytes/);
      assert.deepEqual(await copy.manager.list(), []);
    } finally {
      await copy.manager.dispose();
    }
  });
});

describe('protocol', () => {
  test('shadow.maxShadows is enforced with a clear error', async () => {
    const { client, root } = await harness('[shadow]\nmaxShadows = 2\n');
    const first = (await client.sendRequest('caret/shadow/create', { root })) as Created;
    const second = (await client.sendRequest('caret/shadow/create', { root })) as Created;
    await assert.rejects(client.sendRequest('caret/shadow/create', { root }), (error: Error & { data?: { reason?: string } }) => {
      assert.match(error.message, /maxShadows/);
      assert.equal(error.data?.reason, 'limit');
      return true;
    });
    await client.sendRequest('caret/shadow/discard', { id: first.id });
    const third = (await client.sendRequest('caret/shadow/create', { root })) as Created;
    for (const id of [second.id, third.id]) await client.sendRequest('caret/shadow/discard', { id });
  });

  test('exec output streams as $/progress partial results while the command runs', async () => {
    const { client, root } = await harness();
    const created = (await client.sendRequest('caret/shadow/create', { root })) as Created;
    const token = 'exec-output-1';
    const streamed: Array<{ stream: string; text: string; at: number }> = [];
    const subscription = client.onNotification('$/progress', (params: { token: string; value: { stream: string; text: string } }) => {
      if (params.token === token) streamed.push({ ...params.value, at: Date.now() });
    });
    const started = Date.now();
    const result = (await client.sendRequest('caret/shadow/exec', {
      id: created.id,
      command: ['sh', '-c', 'echo first; sleep 0.6; echo oops >&2; sleep 0.6; echo last'],
      partialResultToken: token,
    })) as { exitCode: number; stdout: string; stderr: string };
    subscription.dispose();
    assert.equal(result.exitCode, 0);
    assert.equal(streamed.filter((p) => p.stream === 'stdout').map((p) => p.text).join(''), result.stdout);
    assert.equal(streamed.filter((p) => p.stream === 'stderr').map((p) => p.text).join(''), 'oops\n');
    assert.equal(result.stdout, 'first\nlast\n');
    // The first line arrived while the command still ran, not with the result.
    const first = streamed.find((p) => p.text.includes('first'))!;
    assert.ok(first.at - started < 1000, `first output came ${first.at - started} ms in`);
    assert.deepEqual(streamed.map((p) => p.text.trim()), ['first', 'oops', 'last']);
    await client.sendRequest('caret/shadow/discard', { id: created.id });
  });
});

describe('caret shadow CLI', () => {
  function cli(env: TestEnv, cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [cliPath, ...args], { env: env.env, cwd, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  test('create, list, exec, diagnostics, changes, accept, discard through a running daemon', async () => {
    const { env, root } = await harness('[[shadow.checkers]]\nname = "todo"\ncommand = ["grep", "-rn", "TODO", "src"]\npattern = "^(?<file>[^:]+):(?<line>\\\\d+):(?<message>.*)$"\n');
    const userHash = hashTree(root);
    const created = await cli(env, root, 'shadow', 'create');
    assert.equal(created.code, 0, created.stderr);
    const [id, mode, mountPath] = created.stdout.trim().split('\t');
    assert.equal(mode, 'fuse');
    assert.ok(id && mountPath && fs.existsSync(join(mountPath, 'src/a.txt')));

    const listed = await cli(env, root, 'shadow', 'list');
    assert.match(listed.stdout, new RegExp(`^${id}\\tfuse\\t${root}\\t`, 'm'));
    const json = JSON.parse((await cli(env, root, 'shadow', 'list', '--json')).stdout) as { shadows: Array<{ id: string }> };
    assert.deepEqual(json.shadows.map((s) => s.id), [id]);

    const exec = await cli(env, root, 'shadow', 'exec', id!, '--', 'sh', '-c', 'echo "// TODO tidy" >> src/a.txt && echo out && echo err >&2 && exit 3');
    assert.equal(exec.code, 3, 'the command exit code is caret\'s');
    assert.equal(exec.stdout, 'out\n');
    assert.equal(exec.stderr, 'err\n');
    const inSub = await cli(env, root, 'shadow', 'exec', id!, '--cwd=src/deep', '--', 'pwd');
    assert.equal(inSub.stdout.trim(), join(mountPath!, 'src/deep'));

    const diagnostics = await cli(env, root, 'shadow', 'diagnostics', id!);
    assert.equal(diagnostics.code, 1, diagnostics.stderr);
    assert.match(diagnostics.stdout, new RegExp(`^${root}/src/a\\.txt:6:1: error \\[todo\\] // TODO tidy$`, 'm'));

    const stat = await cli(env, root, 'shadow', 'changes', id!, '--stat');
    assert.equal(stat.stdout, 'modified\tsrc/a.txt\n');
    const diff = await cli(env, root, 'shadow', 'changes', id!);
    assert.match(diff.stdout, /\+\/\/ TODO tidy/);
    assert.equal(hashTree(root), userHash, 'the CLI wrote to the user tree before accept');

    const accepted = await cli(env, root, 'shadow', 'accept', id!, 'src/a.txt');
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(accepted.stdout, 'applied\tsrc/a.txt\n');
    assert.match(fs.readFileSync(join(root, 'src/a.txt'), 'utf8'), /TODO tidy/);

    assert.equal((await cli(env, root, 'shadow', 'discard', id!)).code, 0);
    assert.equal((await cli(env, root, 'shadow', 'list')).stdout, 'no shadows\n');
    const missing = await cli(env, root, 'shadow', 'exec', id!, '--', 'true');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no shadow/);
    const usage = await cli(env, root, 'shadow', 'frobnicate');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown shadow command/);
  });
});
