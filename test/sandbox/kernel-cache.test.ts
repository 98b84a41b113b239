// The FUSE shadow's kernel caches: the rules (which change drops which path, when long validities
// are on) and, on a real mount whose own timeouts are long (30 s), that every kind of change shows
// at once: only invalidation can make that happen within the few seconds the test waits.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FuseMount } from '../../sandbox/fuse-mount.js';
import { KernelCache, viewPathOf } from '../../sandbox/kernel-cache.js';
import { hashTree, longValidities, makeUserTree } from './tree.js';

describe('kernel cache rules', () => {
  test('a change in either layer names the view path it concerns', () => {
    assert.equal(viewPathOf('/w/lower', '/w/lower'), '');
    assert.equal(viewPathOf('/w/lower', '/w/lower/src/a.ts'), 'src/a.ts');
    assert.equal(viewPathOf('/w/lower', '/w/lowerx/a.ts'), null);
    assert.equal(viewPathOf('/w/lower', '/w/lower/.wh.a.ts'), '.wh.a.ts', 'a lower name is what it is');
    assert.equal(viewPathOf('/w/upper', '/w/upper/src/.wh.a.ts', true), 'src/a.ts', 'a whiteout stands for the name it hides');
    assert.equal(viewPathOf('/w/upper', '/w/upper/.wh.top', true), 'top');
    assert.equal(viewPathOf('/w/upper', '/w/upper/src/.wh..wh..opq', true), 'src', 'an opaque marker stands for its directory');
    assert.equal(viewPathOf('/w/upper', '/w/upper/src/.wh.', true), 'src/.wh.');
  });

  function fakeTarget(longResult = 0) {
    const calls: string[] = [];
    return {
      calls,
      setLongCache: (seconds: number) => (calls.push(`long ${seconds}`), longResult),
      invalidate: (path: string | null) => (calls.push(`invalidate ${path ?? '*'}`), 0),
    };
  }

  test('a path is invalidated once per turn of the event loop, an unknown place drops everything', async () => {
    const target = fakeTarget();
    const cache = new KernelCache(target, 60);
    cache.changed('src/a.ts');
    cache.changed('src/a.ts');
    cache.changed('src/b.ts');
    cache.changed(null);
    assert.deepEqual(target.calls, ['invalidate src/a.ts', 'invalidate src/b.ts', 'invalidate *']);
    await new Promise((resolve) => setImmediate(resolve));
    cache.changed('src/a.ts');
    assert.equal(target.calls.at(-1), 'invalidate src/a.ts', 'a later change to the same path is sent again');
  });

  test('long validities only while trusted; losing trust drops everything the kernel kept', () => {
    const target = fakeTarget();
    const cache = new KernelCache(target, 60);
    assert.equal(cache.long, false);
    cache.setTrusted(true);
    assert.equal(cache.long, true);
    cache.setTrusted(false);
    assert.equal(cache.long, false);
    assert.deepEqual(target.calls, ['long 60', 'long 0', 'invalidate *']);
  });

  test('no long validities when the binding refuses them, when they are configured off, or without the patch', () => {
    const refused = new KernelCache(fakeTarget(-1), 60);
    refused.setTrusted(true);
    assert.equal(refused.long, false);
    const off = fakeTarget();
    const disabled = new KernelCache(off, 0);
    disabled.setTrusted(true);
    assert.equal(disabled.long, false);
    assert.deepEqual(off.calls, []);
    const unpatched = new KernelCache({}, 60);
    unpatched.setTrusted(true);
    unpatched.changed('a');
    assert.equal(unpatched.supported, false);
    assert.equal(unpatched.long, false);
  });
});

const base = fs.mkdtempSync('/tmp/caret-kc-');
after(() => fs.rmSync(base, { recursive: true, force: true }));

/** Polls `check` until it holds, for up to 5 s (the mount's own timeouts are 30 s). */
async function soon(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(check(), `${what}: not seen within 5 s (the kernel kept a stale entry)`);
}

describe('kernel caches on a FUSE shadow mount', () => {
  test('every change to either layer shows at once although the kernel may cache for long', async () => {
    const dir = join(base, 'changes');
    const lower = join(dir, 'lower');
    fs.mkdirSync(lower, { recursive: true });
    makeUserTree(lower);
    fs.mkdirSync(join(lower, 'pkg/lib'), { recursive: true });
    fs.writeFileSync(join(lower, 'pkg/lib/index.js'), 'one');
    for (const name of ['upper', 'meta', 'mnt']) fs.mkdirSync(join(dir, name));
    const upper = join(dir, 'upper');
    const mnt = join(dir, 'mnt');
    const mount = await FuseMount.start({ lower, upper, metaDir: join(dir, 'meta'), mountPath: mnt, cacheSeconds: 30 });
    try {
      // Long validities come on once both layers are watched.
      await longValidities(mount);

      // Look everything up first, so the kernel holds entries, attributes, pages and a listing.
      assert.equal(fs.readFileSync(join(mnt, 'pkg/lib/index.js'), 'utf8'), 'one');
      assert.equal(fs.existsSync(join(mnt, 'pkg/lib/added.js')), false);
      assert.deepEqual(fs.readdirSync(join(mnt, 'pkg/lib')), ['index.js']);
      assert.ok(((await mount.kernelCache())?.nodes ?? 0) >= 3, 'the kernel nodes were not tracked');

      // The user edits, adds, removes and renames in the real tree.
      fs.writeFileSync(join(lower, 'pkg/lib/index.js'), 'two, longer');
      await soon(() => fs.statSync(join(mnt, 'pkg/lib/index.js')).size === 11, 'a changed size');
      assert.equal(fs.readFileSync(join(mnt, 'pkg/lib/index.js'), 'utf8'), 'two, longer');
      fs.writeFileSync(join(lower, 'pkg/lib/added.js'), 'new');
      await soon(() => fs.existsSync(join(mnt, 'pkg/lib/added.js')), 'a new file (a cached missing name)');
      await soon(() => fs.readdirSync(join(mnt, 'pkg/lib')).length === 2, 'a cached listing');
      fs.rmSync(join(lower, 'pkg/lib/added.js'));
      await soon(() => !fs.existsSync(join(mnt, 'pkg/lib/added.js')), 'a removed file');
      fs.renameSync(join(lower, 'pkg/lib'), join(lower, 'pkg/moved'));
      await soon(() => !fs.existsSync(join(mnt, 'pkg/lib/index.js')) && fs.existsSync(join(mnt, 'pkg/moved/index.js')), 'a renamed directory');
      fs.writeFileSync(join(lower, 'pkg/moved/index.js'), 'three');
      await soon(() => fs.statSync(join(mnt, 'pkg/moved/index.js')).size === 5, 'a change under a renamed directory');

      // A command on exec's kernel overlay writes the upper layer behind the mount's back.
      fs.mkdirSync(join(upper, 'pkg/moved'), { recursive: true });
      fs.writeFileSync(join(upper, 'pkg/moved/index.js'), 'from a command');
      await soon(() => fs.readFileSync(join(mnt, 'pkg/moved/index.js'), 'utf8') === 'from a command', 'an upper-layer write');

      // Writes through the mount itself, and a hard link's other name.
      fs.writeFileSync(join(mnt, 'pkg/moved/own.js'), 'mine');
      assert.equal(fs.readFileSync(join(mnt, 'pkg/moved/own.js'), 'utf8'), 'mine');
      assert.equal(fs.statSync(join(mnt, 'pkg/moved/own.js')).nlink, 1);
      // Each name of a hard-linked file is an inode of its own in the kernel: a change through one
      // name must show through the others at once (dropped before the reply, not after).
      fs.linkSync(join(mnt, 'pkg/moved/own.js'), join(mnt, 'pkg/moved/own-link.js'));
      assert.equal(fs.statSync(join(mnt, 'pkg/moved/own.js')).nlink, 2, 'the link count of a hard link\'s other name');
      fs.linkSync(join(mnt, 'pkg/moved/own-link.js'), join(mnt, 'pkg/moved/third.js'));
      assert.equal(fs.statSync(join(mnt, 'pkg/moved/own.js')).nlink, 3, 'the link count of a name not involved in the link');
      fs.chmodSync(join(mnt, 'pkg/moved/own-link.js'), 0o600);
      assert.equal(fs.statSync(join(mnt, 'pkg/moved/own.js')).mode & 0o777, 0o600, 'a mode changed through another name');
      fs.appendFileSync(join(mnt, 'pkg/moved/third.js'), ' and more');
      assert.equal(fs.statSync(join(mnt, 'pkg/moved/own.js')).size, 13, 'a size changed by a write through another name');
      fs.unlinkSync(join(mnt, 'pkg/moved/own-link.js'));
      fs.unlinkSync(join(mnt, 'pkg/moved/third.js'));
      assert.equal(fs.statSync(join(mnt, 'pkg/moved/own.js')).nlink, 1, 'the link count after unlinking the other names');
      assert.equal(fs.existsSync(join(lower, 'pkg/moved/own.js')), false, 'a write reached the user tree');
    } finally {
      await mount.stop();
    }
  });

  test('no long validities while a file system is mounted inside the user tree (its changes go unseen)', async () => {
    const dir = join(base, 'mounted-inside');
    const lower = join(dir, 'lower');
    fs.mkdirSync(join(lower, 'inner'), { recursive: true });
    makeUserTree(lower);
    for (const name of ['upper', 'meta', 'mnt', 'inner-lower', 'inner-upper', 'inner-meta']) fs.mkdirSync(join(dir, name));
    // Another file system at lower/inner: here a second shadow mount, which needs no more rights than the first.
    const inner = await FuseMount.start({ lower: join(dir, 'inner-lower'), upper: join(dir, 'inner-upper'), metaDir: join(dir, 'inner-meta'), mountPath: join(lower, 'inner'), cacheSeconds: 1 });
    try {
      const mount = await FuseMount.start({ lower, upper: join(dir, 'upper'), metaDir: join(dir, 'meta'), mountPath: join(dir, 'mnt'), cacheSeconds: 1 });
      try {
        let state = await mount.kernelCache();
        for (let i = 0; i < 100 && !state?.watched; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          state = await mount.kernelCache();
        }
        assert.equal(state?.watched, true, 'the trees were never fully watched');
        assert.equal(state?.long, false);
      } finally {
        await mount.stop();
      }
    } finally {
      await inner.stop();
    }
  });

  test('the user tree stays byte-identical while the kernel caches a shadow', async () => {
    const dir = join(base, 'identical');
    const lower = join(dir, 'lower');
    fs.mkdirSync(lower, { recursive: true });
    makeUserTree(lower);
    for (const name of ['upper', 'meta', 'mnt']) fs.mkdirSync(join(dir, name));
    const before = hashTree(lower);
    const mnt = join(dir, 'mnt');
    const mount = await FuseMount.start({ lower, upper: join(dir, 'upper'), metaDir: join(dir, 'meta'), mountPath: mnt, cacheSeconds: 30 });
    try {
      for (const name of fs.readdirSync(mnt, { recursive: true }) as string[]) fs.lstatSync(join(mnt, name));
      fs.writeFileSync(join(mnt, 'src/a.txt'), 'shadow edit');
      fs.rmSync(join(mnt, 'src/b.txt'));
      assert.equal(fs.readFileSync(join(mnt, 'src/a.txt'), 'utf8'), 'shadow edit');
      assert.equal(fs.existsSync(join(mnt, 'src/b.txt')), false);
    } finally {
      await mount.stop();
    }
    assert.equal(hashTree(lower), before);
  });
});
