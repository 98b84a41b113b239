// Real toolchains inside a shadow: `git status`, `tsc --noEmit` and `npm test` of a small project
// give the same results in a shadow (through exec, and directly on the FUSE mount) as on a plain
// copy, before and after the same edits; diagnostics name the user's files. The user's tree is
// byte-identical afterwards.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { MessageConnection } from 'vscode-jsonrpc/node.js';
import { parseTsc } from '../../sandbox/checkers.js';
import { connectUnix, initializeParams, makeTestEnv, startTestDaemon, type TestEnv } from '../helpers/index.js';
import { makeProject, normalise, projectEdits } from './project.js';
import { hashTree } from './tree.js';

let env: TestEnv;
let daemon: Awaited<ReturnType<typeof startTestDaemon>>;
let client: MessageConnection;
let root: string;
let copy: string;
let shadow: { id: string; mountPath: string; mode: string };
let userHash: string;

interface Outcome {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const commands: Array<[name: string, argv: string[]]> = [
  ['git status', ['git', 'status', '--porcelain=v1', '--untracked-files=all']],
  ['tsc --noEmit', ['node_modules/.bin/tsc', '--noEmit', '--pretty', 'false', '-p', 'tsconfig.json']],
  ['npm test', ['npm', 'test', '--silent']],
];

function runPlain(dir: string, argv: string[]): Outcome {
  const home = join(env.dir, 'plain-home');
  fs.mkdirSync(home, { recursive: true });
  const result = spawnSync(argv[0]!, argv.slice(1), {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TMPDIR: '/tmp', CI: '1', NO_COLOR: '1', TERM: 'dumb' },
  });
  return { exitCode: result.status, stdout: normalise(result.stdout, dir), stderr: normalise(result.stderr, dir) };
}

async function runShadow(argv: string[]): Promise<Outcome & { view: string }> {
  const result = (await client.sendRequest('caret/shadow/exec', { id: shadow.id, command: argv })) as Outcome & { view: string };
  return { exitCode: result.exitCode, stdout: normalise(result.stdout, shadow.mountPath), stderr: normalise(result.stderr, shadow.mountPath), view: result.view };
}

function applyEdits(dir: string): void {
  for (const [path, text] of projectEdits) {
    if (text === null) fs.unlinkSync(join(dir, path));
    else fs.writeFileSync(join(dir, path), text);
  }
}

async function compareAll(stage: string): Promise<void> {
  for (const [name, argv] of commands) {
    const reference = runPlain(copy, argv);
    const exec = await runShadow(argv);
    assert.equal(exec.view, 'kernel-overlay');
    assert.deepEqual({ exitCode: exec.exitCode, stdout: exec.stdout, stderr: exec.stderr }, reference, `${stage}: ${name} through caret/shadow/exec differs from the copy`);
    // The same command straight on the FUSE mount (the view editors and agents without exec see).
    const onMount = runPlain(shadow.mountPath, argv);
    assert.deepEqual(onMount, reference, `${stage}: ${name} on the FUSE mount differs from the copy`);
  }
}

before(async () => {
  env = makeTestEnv();
  root = join(env.dir, 'project');
  copy = join(env.dir, 'copy');
  fs.mkdirSync(root);
  makeProject(root);
  spawnSync('cp', ['-a', root, copy]);
  userHash = hashTree(root);
  daemon = await startTestDaemon(env);
  client = await connectUnix(env.paths.socketPath);
  await client.sendRequest('initialize', initializeParams());
  client.sendNotification('initialized', {});
  shadow = (await client.sendRequest('caret/shadow/create', { root })) as typeof shadow;
});

after(async () => {
  await client.sendRequest('caret/shadow/discard', { id: shadow.id }).catch(() => {});
  client.dispose();
  await daemon.stop('test done');
  env.cleanup();
});

test('the fixture project passes everything on a plain copy (the reference is meaningful)', () => {
  assert.deepEqual(commands.map(([, argv]) => runPlain(copy, argv).exitCode), [0, 0, 0]);
  assert.equal(runPlain(copy, commands[0]![1]).stdout, '');
});

test('git status, tsc --noEmit and npm test agree with a plain copy, before and after the same edits', async () => {
  assert.equal(shadow.mode, 'fuse');
  await compareAll('clean tree');
  applyEdits(shadow.mountPath);
  applyEdits(copy);
  await compareAll('after edits');
  // The edits are visible to every tool: the failures are real ones.
  assert.match(runPlain(copy, commands[0]![1]).stdout, / M lib\/sum\.mjs\n M src\/math\.ts\n D src\/use\.ts\n\?\? src\/extra\.ts/);
  assert.notEqual(runPlain(copy, commands[1]![1]).exitCode, 0);
  assert.notEqual(runPlain(copy, commands[2]![1]).exitCode, 0);
  assert.equal(hashTree(root), userHash, 'the user tree changed');
});

test("caret/shadow/diagnostics equals a real tsc run, with URIs naming the user's tree", async () => {
  const reference = parseTsc(spawnSync('node_modules/.bin/tsc', ['--noEmit', '--pretty', 'false', '-p', 'tsconfig.json'], { cwd: copy, encoding: 'utf8' }).stdout);
  assert.ok(reference.length > 0, 'the edited project has a type error');
  const expected = reference.map(({ file, diagnostic }) => ({ uri: pathToFileURL(join(root, file)).href, diagnostic }));
  const result = (await client.sendRequest('caret/shadow/diagnostics', { id: shadow.id })) as {
    items: Array<{ uri: string; diagnostics: unknown[] }>;
    checkers: Array<{ name: string; exitCode: number | null }>;
  };
  assert.deepEqual(result.checkers.map((c) => [c.name, c.exitCode !== 0]), [['tsc', true]]);
  const got = result.items.flatMap((item) => item.diagnostics.map((diagnostic) => ({ uri: item.uri, diagnostic })));
  assert.deepEqual(got, expected);
  assert.equal(got[0]!.uri, pathToFileURL(join(root, 'src/math.ts')).href);
  assert.ok(!got.some((d) => d.uri.includes(shadow.mountPath)), 'a URI names the mount');
  // Warm second run (incremental build info kept per shadow) gives the same answer.
  const again = (await client.sendRequest('caret/shadow/diagnostics', { id: shadow.id })) as typeof result;
  assert.deepEqual(again.items, result.items);
  assert.equal(hashTree(root), userHash, 'the user tree changed');
});
