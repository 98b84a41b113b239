// The lower-tree watcher that tells exec when its held kernel overlay may be stale.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TreeWatcher, mountPoints } from '../../sandbox/tree-watch.js';

function tree(): string {
  const root = fs.mkdtempSync(join(tmpdir(), 'caret-tree-watch-'));
  fs.mkdirSync(join(root, 'a/b/c'), { recursive: true });
  fs.writeFileSync(join(root, 'a/b/c/file.txt'), 'one');
  return root;
}

/** Waits until `count()` exceeds `before` (inotify events arrive asynchronously). */
async function grows(count: () => number, before: number): Promise<void> {
  for (let i = 0; i < 200 && count() <= before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(count() > before, 'no change was reported');
}

test('every directory is watched; a change deep in the tree is reported', async () => {
  const root = tree();
  let changes = 0;
  const watcher = new TreeWatcher(root, () => changes++);
  try {
    await watcher.ready;
    assert.equal(watcher.complete, true);
    assert.equal(watcher.directories, 4);
    const before = changes;
    fs.writeFileSync(join(root, 'a/b/c/file.txt.tmp'), 'two');
    fs.renameSync(join(root, 'a/b/c/file.txt.tmp'), join(root, 'a/b/c/file.txt'));
    await grows(() => changes, before);
  } finally {
    watcher.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a directory made after the start is watched too', async () => {
  const root = tree();
  let changes = 0;
  const watcher = new TreeWatcher(root, () => changes++);
  try {
    await watcher.ready;
    fs.mkdirSync(join(root, 'a/new/deeper'), { recursive: true });
    for (let i = 0; i < 200 && watcher.directories < 6; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(watcher.directories, 6);
    const before = changes;
    fs.writeFileSync(join(root, 'a/new/deeper/late.txt'), 'late');
    await grows(() => changes, before);
    assert.equal(watcher.complete, true);
  } finally {
    watcher.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a tree with more directories than allowed is never reported as unchanged', async () => {
  const root = tree();
  let changes = 0;
  const watcher = new TreeWatcher(root, () => changes++, { maxDirectories: 2 });
  try {
    await watcher.ready;
    assert.equal(watcher.complete, false);
    assert.ok(changes > 0);
    assert.equal(watcher.directories, 0);
  } finally {
    watcher.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('closing stops the reports', async () => {
  const root = tree();
  let changes = 0;
  const watcher = new TreeWatcher(root, () => changes++);
  await watcher.ready;
  watcher.close();
  assert.equal(watcher.complete, false);
  fs.writeFileSync(join(root, 'a/after-close.txt'), 'x');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(changes, 0);
  fs.rmSync(root, { recursive: true, force: true });
});

test('file systems mounted inside the tree and excluded directories are not entered', async () => {
  const root = tree();
  const mounted = join(root, 'a/mounted');
  fs.mkdirSync(mounted);
  fs.mkdirSync(join(root, 'skip/inner'), { recursive: true });
  const mount = spawnSync('mount', ['-t', 'tmpfs', 'caret-test', mounted]);
  assert.equal(mount.status, 0, String(mount.stderr));
  let watcher: TreeWatcher | undefined;
  try {
    fs.mkdirSync(join(mounted, 'below'));
    watcher = new TreeWatcher(root, () => {}, { exclude: [join(root, 'skip')] });
    await watcher.ready;
    // root, a, a/b, a/b/c: neither the tmpfs (nor what is in it) nor skip/ (nor skip/inner).
    assert.equal(watcher.directories, 4);
    assert.equal(watcher.complete, true);
  } finally {
    watcher?.close();
    spawnSync('umount', [mounted]);
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('mount points are read from mountinfo with their escapes decoded', () => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'caret-mountinfo-'));
  const file = join(dir, 'mountinfo');
  fs.writeFileSync(file, '22 1 0:21 / /proc rw - proc proc rw\n90 22 0:50 / /home/me/my\\040project/mnt rw - fuse.caret x rw\n');
  assert.deepEqual(mountPoints(file), ['/proc', '/home/me/my project/mnt']);
  assert.deepEqual(mountPoints(join(dir, 'missing')), []);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('each change names the path it concerns (kernel cache invalidation needs it)', async () => {
  const root = tree();
  const paths: Array<string | undefined> = [];
  const watcher = new TreeWatcher(root, (path) => paths.push(path));
  try {
    await watcher.ready;
    fs.writeFileSync(join(root, 'a/b/c/file.txt'), 'changed');
    fs.mkdirSync(join(root, 'a/made'));
    for (let i = 0; i < 200 && !(paths.includes(join(root, 'a/b/c/file.txt')) && paths.includes(join(root, 'a/made'))); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(paths.includes(join(root, 'a/b/c/file.txt')), `the changed file was not named: ${paths.join(', ')}`);
    assert.ok(paths.includes(join(root, 'a/made')), 'the new directory was not named');
    assert.deepEqual(watcher.mountsInside, []);
  } finally {
    watcher.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
