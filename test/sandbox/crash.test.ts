// A real daemon process (`caret daemon --foreground`) killed with SIGKILL while a shadow is being
// written, through the mount and by a running exec: after a restart no stale mount survives, the
// shadow is found again with what was written before the kill, half-made and orphaned shadows are
// cleaned, and the user's tree is byte-identical throughout.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MessageConnection } from 'vscode-jsonrpc/node.js';
import { listMounts } from '../../sandbox/mounts.js';
import { connectUnix, initializeParams, makeTestEnv, spawnDaemonProcess, waitForExit, type TestEnv } from '../helpers/index.js';
import { hashTree, makeUserTree } from './tree.js';

let env: TestEnv;
let root: string;
let shadowsDir: string;

before(() => {
  env = makeTestEnv();
  root = join(env.dir, 'project');
  fs.mkdirSync(root);
  makeUserTree(root);
  shadowsDir = join(env.paths.stateDir, 'shadows');
});
after(() => env.cleanup());

async function connect(): Promise<MessageConnection> {
  const client = await connectUnix(env.paths.socketPath);
  await client.sendRequest('initialize', initializeParams());
  client.sendNotification('initialized', {});
  return client;
}

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text) children.push(...text.split(/\s+/).map(Number));
  }
  return children;
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function mountsUnder(dir: string) {
  return listMounts().filter((m) => m.mountPoint.startsWith(dir + '/'));
}

/** A mount point that answers (a dead FUSE server leaves one that fails with ENOTCONN). */
function answers(path: string): boolean {
  try {
    fs.readdirSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes into the shadow through the mount until told to stop or the mount goes away. */
function startWriter(path: string): { stop: () => Promise<number> } {
  let running = true;
  let written = 0;
  const done = (async () => {
    const handle = await fs.promises.open(path, 'w');
    try {
      const chunk = Buffer.alloc(64 * 1024, 'w');
      while (running) {
        await handle.write(chunk);
        written += chunk.length;
      }
    } catch {
      // The mount went away under the writer: expected when the daemon dies.
    } finally {
      await handle.close().catch(() => {});
    }
  })();
  return { stop: async () => { running = false; await done; return written; } };
}

async function crashScenario(killFuseServerToo: boolean): Promise<void> {
  const userHash = hashTree(root);
  let daemon: ChildProcess = await spawnDaemonProcess(env);
  let client: MessageConnection;
  let shadow: { id: string; mountPath: string };
  let fuseServers: number[];
  try {
    client = await connect();
    shadow = (await client.sendRequest('caret/shadow/create', { root })) as typeof shadow;
    fuseServers = childrenOf(daemon.pid!).filter((pid) => commandOf(pid).includes('fuse-server'));
  } catch (error) {
    daemon.kill('SIGKILL');
    throw error;
  }

  fs.writeFileSync(join(shadow.mountPath, 'before-kill.txt'), 'written before the kill\n');
  fs.appendFileSync(join(shadow.mountPath, 'src/a.txt'), 'six\n');
  assert.equal(fuseServers.length, 1, `one FUSE server process per shadow: ${childrenOf(daemon.pid!).map(commandOf).join(' | ')}`);

  // Mid-write: a command in the shadow appending in a loop, and this process streaming into a file.
  // (Its reply never comes: the connection dies with the daemon.)
  void client.sendRequest('caret/shadow/exec', { id: shadow.id, command: ['sh', '-c', 'while :; do echo line >> exec-log.txt; done'] }).catch(() => {});
  const writer = startWriter(join(shadow.mountPath, 'streaming.bin'));
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(join(shadow.mountPath, 'exec-log.txt')) && Date.now() < deadline) await sleep(20);
  await sleep(200);
  daemon.kill('SIGKILL');
  if (killFuseServerToo) for (const pid of fuseServers) process.kill(pid, 'SIGKILL');
  await waitForExit(daemon);
  client.dispose();
  const written = await writer.stop();
  assert.ok(written > 0, 'the writer was writing when the daemon died');
  assert.equal(hashTree(root), userHash, 'the user tree changed during the crash');

  // Restart: stale mounts go, the shadow comes back with what was written before the kill.
  daemon = await spawnDaemonProcess(env);
  try {
    client = await connect();
    const { shadows } = (await client.sendRequest('caret/shadow/list', {})) as { shadows: Array<{ id: string; mountPath: string }> };
    assert.deepEqual(shadows.map((s) => s.id), [shadow.id]);
    let mounts = mountsUnder(shadowsDir);
    const waitUntil = Date.now() + 10_000;
    while (mounts.length === 0 && Date.now() < waitUntil) {
      await sleep(50);
      mounts = mountsUnder(shadowsDir);
    }
    assert.deepEqual(mounts.map((m) => m.mountPoint), [shadow.mountPath], 'exactly the live mount of the shadow');
    assert.ok(answers(shadow.mountPath), 'the remounted shadow answers');
    assert.equal(fs.readFileSync(join(shadow.mountPath, 'before-kill.txt'), 'utf8'), 'written before the kill\n');
    assert.equal(fs.readFileSync(join(shadow.mountPath, 'src/a.txt'), 'utf8'), 'one\ntwo\nthree\nfour\nfive\nsix\n');
    // The command that was running died with the daemon (nothing keeps writing into the shadow).
    const size = fs.statSync(join(shadow.mountPath, 'exec-log.txt')).size;
    await sleep(1500);
    assert.equal(fs.statSync(join(shadow.mountPath, 'exec-log.txt')).size, size, 'a shadow command outlived the daemon');
    const { changes } = (await client.sendRequest('caret/shadow/changes', { id: shadow.id })) as { changes: Array<{ path: string; kind: string; diff: string }> };
    const byPath = new Map(changes.map((c) => [c.path, c]));
    assert.equal(byPath.get('before-kill.txt')?.kind, 'added');
    assert.equal(byPath.get('src/a.txt')?.kind, 'modified');
    assert.match(byPath.get('src/a.txt')!.diff, /\+six\n/);
    assert.equal(hashTree(root), userHash, 'the user tree changed after the restart');
    await client.sendRequest('caret/shadow/discard', { id: shadow.id });
    assert.deepEqual(mountsUnder(shadowsDir), []);
    client.dispose();
  } finally {
    daemon.kill('SIGTERM');
    await waitForExit(daemon, 15_000);
  }
  assert.deepEqual(mountsUnder(shadowsDir), [], 'a mount outlived the daemon');
}

test('SIGKILL of the daemon mid-write: restart finds the shadow, no stale mount, user tree unchanged', async () => {
  await crashScenario(false);
});

test('SIGKILL of the daemon and its FUSE server at once: the stale mount is unmounted at restart', async () => {
  await crashScenario(true);
});

test('at start, half-made shadows and shadows of a vanished workspace are cleaned; a clean stop leaves no mount', async () => {
  const gone = join(env.dir, 'gone-project');
  fs.mkdirSync(gone);
  makeUserTree(gone);
  let daemon = await spawnDaemonProcess(env);
  let client = await connect();
  const orphan = (await client.sendRequest('caret/shadow/create', { root: gone })) as { id: string };
  const kept = (await client.sendRequest('caret/shadow/create', { root })) as { id: string; mountPath: string };
  fs.writeFileSync(join(kept.mountPath, 'kept.txt'), 'kept\n');
  client.dispose();
  daemon.kill('SIGTERM');
  await waitForExit(daemon, 15_000);
  assert.deepEqual(mountsUnder(shadowsDir), [], 'a clean stop unmounts every shadow');
  fs.rmSync(gone, { recursive: true });
  fs.mkdirSync(join(shadowsDir, 'halfmade', 'meta'), { recursive: true });
  const userHash = hashTree(root);

  daemon = await spawnDaemonProcess(env);
  try {
    client = await connect();
    const { shadows } = (await client.sendRequest('caret/shadow/list', {})) as { shadows: Array<{ id: string }> };
    assert.deepEqual(shadows.map((s) => s.id), [kept.id]);
    assert.equal(fs.existsSync(join(shadowsDir, 'halfmade')), false);
    assert.equal(fs.existsSync(join(shadowsDir, orphan.id)), false);
    assert.equal(fs.readFileSync(join(kept.mountPath, 'kept.txt'), 'utf8'), 'kept\n');
    await client.sendRequest('caret/shadow/discard', { id: kept.id });
    client.dispose();
  } finally {
    daemon.kill('SIGTERM');
    await waitForExit(daemon, 15_000);
  }
  assert.equal(hashTree(root), userHash);
});
