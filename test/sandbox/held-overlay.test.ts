// exec keeps one kernel overlay per shadow mounted between commands (OverlayHolder), and mounts it
// again whenever something changed the view behind it: a write through the FUSE mount, or your
// edits to the real tree. A stale overlay would show old content or miss names; these tests read
// names right after such changes. The user's tree is hashed before and after where it is not edited.
// Which overlay served a command is told by its holder's pid (pids are not reused soon; overlay
// device numbers are).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { overlayOptions } from '../../sandbox/exec.js';
import { ShadowManager, defaultShadowSettings } from '../../sandbox/index.js';
import { OverlayHolder } from '../../sandbox/overlay-holder.js';
import { hashTree, makeUserTree } from './tree.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the held kernel overlay of exec', () => {
  let dir: string;
  let root: string;
  let manager: ShadowManager;
  let id: string;
  let mountPath: string;

  before(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'caret-held-'));
    root = join(dir, 'project');
    fs.mkdirSync(root);
    makeUserTree(root);
    manager = new ShadowManager(join(dir, 'state'), () => ({ ...defaultShadowSettings, idleMinutes: 0 }));
    await manager.start();
    ({ id, mountPath } = await manager.create(root));
    // Until the FUSE server's first walk of the lower tree is done, every command gets a fresh
    // overlay; wait for that (a slow machine may take a while) before the tests start.
    const holder = async () => {
      await manager.exec(id, { command: ['true'] });
      return manager.heldOverlayPid(id);
    };
    for (let i = 0; i < 100 && ((await holder()) === undefined || (await holder()) !== (await holder())); i++) await sleep(50);
  });
  after(async () => {
    await manager.discard(id).catch(() => {});
    await manager.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = async (...command: string[]) => {
    const result = await manager.exec(id, { command });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.view, 'kernel-overlay');
    return result.stdout;
  };
  /** Which holder served the last command (a new holder is a new overlay mount). */
  const overlayAfter = async (...command: string[]) => {
    await run(...command);
    return manager.heldOverlayPid(id);
  };

  test('commands share one overlay while nothing changes, and their own writes show', async () => {
    const userHash = hashTree(root);
    const first = await overlayAfter('true');
    assert.equal(typeof first, 'number');
    assert.equal(await run('cat', 'src/b.txt'), 'bee\n');
    await run('sh', '-c', 'echo made by a command > src/made.txt');
    assert.equal(await run('cat', 'src/made.txt'), 'made by a command\n');
    assert.equal(await overlayAfter('true'), first);
    assert.equal(hashTree(root), userHash);
  });

  test('a write through the FUSE mount shows in the next command (the overlay is mounted again)', async () => {
    const userHash = hashTree(root);
    const before = await overlayAfter('true');
    assert.equal(await run('cat', 'src/deep/c.txt'), 'sea\n'); // the overlay now holds this name
    assert.doesNotMatch(await run('ls', 'src'), /fuse-new/);
    fs.writeFileSync(join(mountPath, 'src/deep/c.txt'), 'changed through the mount\n');
    fs.writeFileSync(join(mountPath, 'src/fuse-new.txt'), 'new\n');
    assert.equal(await run('cat', 'src/deep/c.txt'), 'changed through the mount\n');
    assert.match(await run('ls', 'src'), /fuse-new\.txt/);
    assert.notEqual(await overlayAfter('true'), before);
    assert.equal(hashTree(root), userHash);
  });

  test('your edits to the real tree show in the next command', async () => {
    assert.equal(await run('cat', 'README.md'), '# fixture\n');
    assert.doesNotMatch(await run('ls'), /added-by-you/);
    // Saved the way editors do: a new file renamed over the old one.
    fs.writeFileSync(join(root, 'README.md.tmp'), '# edited by you\n');
    fs.renameSync(join(root, 'README.md.tmp'), join(root, 'README.md'));
    fs.writeFileSync(join(root, 'added-by-you.txt'), 'hi\n');
    assert.equal(await run('cat', 'README.md'), '# edited by you\n');
    assert.match(await run('ls'), /added-by-you\.txt/);
  });
});

test('after a command: what it copied up has its base, and its disk use counts at the next exec', async () => {
  const root = fs.mkdtempSync(join(tmpdir(), 'caret-held-scan-'));
  makeUserTree(root);
  const userHash = hashTree(root);
  const manager = new ShadowManager(join(root, '..', `${root.split('/').pop()}-state`), () => ({ ...defaultShadowSettings, idleMinutes: 0, maxUpperBytes: 1024 * 1024 }));
  try {
    await manager.start();
    const { id } = await manager.create(root);
    const run = (script: string) => manager.exec(id, { command: ['sh', '-c', script] });
    assert.equal((await run('echo changed > src/deep/c.txt && mkdir -p new/dir && echo n > new/dir/f.txt')).exitCode, 0);
    const changes = await manager.changes(id);
    const deep = changes.find((c) => c.path === 'src/deep/c.txt');
    assert.equal(deep?.kind, 'modified');
    assert.match(deep!.diff, /-sea\n\+changed/);
    assert.equal(changes.find((c) => c.path === 'new/dir/f.txt')?.kind, 'added');
    // A command that writes nothing leaves the measure as it was.
    assert.equal((await run('cat src/deep/c.txt > /dev/null')).exitCode, 0);
    // What a command writes (here: growing a file already in the upper layer) is measured after
    // it, so the next command is refused.
    assert.equal((await run('head -c 2097152 /dev/zero >> new/dir/f.txt')).exitCode, 0);
    await assert.rejects(run('true'), (error: Error & { kind?: string }) => error.kind === 'limit');
    await manager.discard(id);
    assert.equal(hashTree(root), userHash);
  } finally {
    await manager.dispose();
    fs.rmSync(join(root, '..', `${root.split('/').pop()}-state`), { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a workspace holding caret\'s state directory (so the shadow\'s own mount) works and does not hang', { timeout: 30_000 }, async () => {
  const root = fs.mkdtempSync(join(tmpdir(), 'caret-held-home-'));
  makeUserTree(root);
  const manager = new ShadowManager(join(root, '.state'), () => ({ ...defaultShadowSettings, idleMinutes: 0 }));
  try {
    await manager.start();
    const { id, mountPath } = await manager.create(root);
    assert.ok(mountPath.startsWith(`${root}/`));
    await sleep(300);
    // (Each command writes caret's state inside this tree, so the overlay is mounted afresh each time.)
    for (let i = 0; i < 2; i++) assert.equal((await manager.exec(id, { command: ['cat', 'src/b.txt'] })).stdout, 'bee\n');
    assert.equal(fs.readFileSync(join(mountPath, 'src/b.txt'), 'utf8'), 'bee\n');
    await manager.discard(id);
  } finally {
    await manager.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

describe('OverlayHolder', () => {
  test('holds the overlay in its own namespace, and leaves only when no command is starting in it', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'caret-holder-'));
    try {
      for (const sub of ['lower', 'upper', 'work', 'mnt']) fs.mkdirSync(join(dir, sub));
      fs.writeFileSync(join(dir, 'lower', 'file.txt'), 'lower\n');
      const options = overlayOptions({ lower: join(dir, 'lower'), upper: join(dir, 'upper'), work: join(dir, 'work') })!;
      const holder = await OverlayHolder.start(options, join(dir, 'mnt'));
      const enter = holder.acquire();
      const inside = spawnSync(enter[0]!, [...enter.slice(1), '--', 'cat', join(dir, 'mnt', 'file.txt')], { encoding: 'utf8' });
      assert.equal(inside.stdout, 'lower\n');
      // Not in this namespace: the mount point is still the empty directory.
      assert.deepEqual(fs.readdirSync(join(dir, 'mnt')), []);
      holder.retire();
      await sleep(100);
      assert.ok(fs.existsSync(`/proc/${holder.pid}`), 'retired while a command was starting in it');
      assert.equal(holder.alive, false);
      holder.release();
      for (let i = 0; i < 100 && fs.existsSync(`/proc/${holder.pid}`); i++) await sleep(20);
      assert.equal(fs.existsSync(`/proc/${holder.pid}`), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failed mount is an error, not a hang', async () => {
    await assert.rejects(OverlayHolder.start('lowerdir=/nonexistent-caret-lower', '/nonexistent-caret-mnt'), /exited \(125\)/);
  });
});
