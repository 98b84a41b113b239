// Directory opens without an OPENDIR round trip (patches/fuse-native+2.2.6.patch, cc_dir_request):
// the setting, and on a real mount, with it on and off (the old path): listings of a directory
// too large for one READDIR, read cold and warm; a pass that goes on while the directory changes
// under it (in your tree, and through the mount as it is read); telldir/seekdir; every kind of
// change to either layer showing in the next listing although the kernel keeps listings; whiteouts
// and opaque directories; fsync and an ioctl on a directory; your tree unchanged.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FuseMount, type KernelCacheState } from '../../sandbox/fuse-mount.js';
import { noOpendir } from '../../sandbox/fuse-server.js';
import { loadFuseNative } from '../../sandbox/native.js';
import { hashTree, longValidities, makeUserTree } from './tree.js';

describe('directory open setting (CARET_SHADOW_NO_OPENDIR)', () => {
  test('on by default, off, anything else is an error', () => {
    assert.equal(noOpendir(undefined), true);
    assert.equal(noOpendir('on'), true);
    assert.equal(noOpendir('off'), false);
    assert.equal(noOpendir('0'), false);
    assert.throws(() => noOpendir('sometimes'), /CARET_SHADOW_NO_OPENDIR/);
  });
});

const base = fs.mkdtempSync('/tmp/caret-nod-');
after(() => fs.rmSync(base, { recursive: true, force: true }));
let mounts = 0;

/** Names long enough that a listing of `count` of them takes many READDIRs. */
function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}-${'x'.repeat(40)}.txt`);
}

async function soon(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(check(), `${what}: not seen within 5 s (the kernel kept a stale listing)`);
}

const sorted = (list: string[]) => [...list].sort();

/** Reads a directory entry by entry, calling `between` after the first `first` entries. */
function readPaged(dir: string, first: number, between: () => void): string[] {
  const handle = fs.opendirSync(dir, { bufferSize: 1 });
  const seen: string[] = [];
  try {
    for (let entry = handle.readSync(); entry; entry = handle.readSync()) {
      seen.push(entry.name);
      if (seen.length === first) between();
    }
  } finally {
    handle.closeSync();
  }
  return seen;
}

for (const on of [true, false]) {
  describe(`handleless directory opens ${on ? 'on' : 'off'}, on a FUSE shadow mount`, () => {
    test('listings are complete and consistent, and every change shows in the next one', async () => {
      const dir = join(base, `m${++mounts}`);
      const lower = join(dir, 'lower');
      fs.mkdirSync(lower, { recursive: true });
      makeUserTree(lower);
      for (const sub of ['big', 'paged', 'mine', 'gone-dir/inner']) fs.mkdirSync(join(lower, sub), { recursive: true });
      const big = names('big', 3000);
      for (const name of big) fs.writeFileSync(join(lower, 'big', name), '');
      const paged = names('paged', 3000);
      for (const name of paged) fs.writeFileSync(join(lower, 'paged', name), '');
      const mine = names('mine', 2000);
      for (const name of mine) fs.writeFileSync(join(lower, 'mine', name), '');
      fs.writeFileSync(join(lower, 'gone-dir/inner/f.txt'), 'f');
      for (const name of ['upper', 'meta', 'mnt']) fs.mkdirSync(join(dir, name));
      const upper = join(dir, 'upper');
      const mnt = join(dir, 'mnt');
      const mount = await FuseMount.start({ lower, upper, metaDir: join(dir, 'meta'), mountPath: mnt, cacheSeconds: 30, noOpendir: on });
      try {
        let state: KernelCacheState | null = await longValidities(mount);

        // A large directory, cold then warm (kept by the kernel): complete, nothing twice.
        assert.deepEqual(sorted(fs.readdirSync(join(mnt, 'big'))), sorted(big));
        assert.deepEqual(sorted(fs.readdirSync(join(mnt, 'big'))), sorted(big));
        state = await mount.kernelCache();
        assert.equal(state?.noOpendir, on, 'whether the kernel opens directories by itself');
        if (on) assert.ok((state?.dirWraps ?? 0) > 1, 'a large listing takes several READDIRs');
        else assert.equal(state?.dirWraps, 0);

        // Your tree changes while a pass over a directory not yet listed is half done: the pass
        // reads the listing it started with (no name twice, none lost but those removed, no
        // garbage), and the next pass shows the change.
        const removed = new Set(paged.slice(0, 400));
        const added = names('added', 300);
        const seen = readPaged(join(mnt, 'paged'), 1000, () => {
          for (const name of removed) fs.rmSync(join(lower, 'paged', name));
          for (const name of added) fs.writeFileSync(join(lower, 'paged', name), '');
        });
        assert.equal(new Set(seen).size, seen.length, 'a name listed twice in one pass');
        const allowed = new Set([...paged, ...added]);
        assert.deepEqual(seen.filter((name) => !allowed.has(name)), [], 'a name that never existed');
        const missing = paged.filter((name) => !removed.has(name) && !seen.includes(name));
        assert.deepEqual(missing, [], 'a name that was there all along is missing from the pass');
        const now = sorted([...paged.filter((name) => !removed.has(name)), ...added]);
        await soon(() => JSON.stringify(sorted(fs.readdirSync(join(mnt, 'paged')))) === JSON.stringify(now), 'your changes in the next listing');

        // Deleting through the mount while listing (each name as it is read) empties the directory,
        // although the kernel's kept copy of the listing is dropped mid-pass by the first removal.
        // The old path does not: the pass goes on in a library handle that has no listing yet, which
        // takes the directory as it is now and continues at the old byte offset (names are skipped).
        assert.equal(readPaged(join(mnt, 'mine'), 1, () => {}).length, mine.length);
        {
          const handle = fs.opendirSync(join(mnt, 'mine'), { bufferSize: 1 });
          for (let entry = handle.readSync(); entry; entry = handle.readSync()) fs.rmSync(join(mnt, 'mine', entry.name));
          handle.closeSync();
        }
        if (on) assert.deepEqual(fs.readdirSync(join(mnt, 'mine')), [], 'entries left after deleting each as it was listed');
        else for (const name of fs.readdirSync(join(mnt, 'mine'))) fs.rmSync(join(mnt, 'mine', name));
        assert.equal(fs.readdirSync(join(lower, 'mine')).length, mine.length, 'deleting through the mount reached your tree');

        // telldir/seekdir: reading again from a saved position gives the same names.
        const perl = 'opendir(my $d, $ARGV[0]) or die; readdir($d) for 1..700; my $p = telldir($d); my @a = map { scalar readdir($d) } 1..20; seekdir($d, $p); my @b = map { scalar readdir($d) } 1..20; print join("/", @a) eq join("/", @b) ? "same" : "different"';
        assert.equal(execFileSync('perl', ['-e', perl, join(mnt, 'big')], { encoding: 'utf8' }), 'same');

        // Changes to either layer and through the mount show in the next listing of a kept one.
        const listing = (path: string) => sorted(fs.readdirSync(join(mnt, path)));
        assert.deepEqual(listing('src'), ['a.txt', 'b.txt', 'deep']);
        fs.writeFileSync(join(lower, 'src/new.txt'), 'n');
        await soon(() => listing('src').includes('new.txt'), 'a file you added');
        fs.renameSync(join(lower, 'src/new.txt'), join(lower, 'src/renamed.txt'));
        await soon(() => listing('src').includes('renamed.txt') && !listing('src').includes('new.txt'), 'a file you renamed');
        fs.rmSync(join(lower, 'src/renamed.txt'));
        await soon(() => !listing('src').includes('renamed.txt'), 'a file you removed');
        fs.mkdirSync(join(upper, 'src'), { recursive: true });
        fs.writeFileSync(join(upper, 'src/by-command.txt'), 'c');
        await soon(() => listing('src').includes('by-command.txt'), 'a file a command wrote in the upper layer');
        fs.rmSync(join(upper, 'src/by-command.txt'));
        await soon(() => !listing('src').includes('by-command.txt'), 'a file a command removed from the upper layer');
        const before = hashTree(lower);
        // Through the mount: a whiteout hides a file of your tree, a rename moves one, a removed
        // and re-made directory is opaque (empty, though your tree still has its files).
        fs.rmSync(join(mnt, 'src/b.txt'));
        assert.deepEqual(listing('src'), ['a.txt', 'deep']);
        fs.renameSync(join(mnt, 'src/a.txt'), join(mnt, 'src/deep/a-moved.txt'));
        assert.deepEqual(listing('src'), ['deep']);
        assert.deepEqual(listing('src/deep'), ['a-moved.txt', 'c.txt']);
        assert.deepEqual(listing('gone-dir'), ['inner']);
        fs.rmSync(join(mnt, 'gone-dir'), { recursive: true });
        assert.deepEqual(listing('').includes('gone-dir'), false);
        fs.mkdirSync(join(mnt, 'gone-dir'));
        assert.deepEqual(listing('gone-dir'), [], 'a re-made directory is opaque');
        fs.rmdirSync(join(mnt, 'empty'));
        assert.equal(listing('').includes('empty'), false);

        // fsync and an ioctl on a directory (both carry a directory handle).
        const fd = fs.openSync(join(mnt, 'src'), 'r');
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        try {
          execFileSync('lsattr', ['-d', join(mnt, 'src')], { stdio: 'ignore' });
        } catch {
          // Refused (the server has no ioctl): what matters is that the mount still serves.
        }
        assert.deepEqual(listing('src/deep'), ['a-moved.txt', 'c.txt'], 'the mount serves after fsync and ioctl on a directory');
        assert.equal((await mount.kernelCache())?.noOpendir, on);
        assert.equal(hashTree(lower), before, 'your tree was written');
      } finally {
        await mount.stop();
      }
    });
  });
}

// The fallback when trust goes after the kernel stopped asking: kept listings are dropped every
// second. On a mount of a few lines served in this process (listings changed without any
// invalidation), read by child processes (this process's event loop serves the mount).
describe('handleless directory opens after long validities are turned off', () => {
  test('a kept listing is kept while trusted, and dropped within about a second once not', async () => {
    const status = loadFuseNative();
    assert.ok(status.ok, 'the patched binding loads');
    const Fuse = status.fuse as unknown as new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>) => {
      mount(cb: (error?: Error) => void): void;
      unmount(cb: (error?: Error) => void): void;
      setLongCache(seconds: number): number;
      cacheStats(): { noOpendir: boolean };
    };
    const mnt = fs.mkdtempSync(join(base, 'sweep-'));
    let names = ['one'];
    const now = new Date();
    const dirStat = { mode: 0o40755, size: 4096, nlink: 2, uid: 0, gid: 0, mtime: now, atime: now, ctime: now };
    const fileStat = { mode: 0o100644, size: 0, nlink: 1, uid: 0, gid: 0, mtime: now, atime: now, ctime: now };
    const ops = {
      getattr: (path: string, cb: (code: number, stat?: unknown) => void) => {
        if (path === '/') return cb(0, dirStat);
        return names.includes(path.slice(1)) ? cb(0, fileStat) : cb(-2 /* ENOENT */);
      },
      readdir: (_path: string, cb: (code: number, names?: string[]) => void) => cb(0, names),
    };
    const fuse = new Fuse(mnt, ops, { force: true, entryTimeout: 30, attrTimeout: 30 });
    await new Promise<void>((resolve, reject) => fuse.mount((error) => (error ? reject(error) : resolve())));
    const ls = () => new Promise<string>((resolve, reject) => execFile('ls', [mnt], (error, out) => (error ? reject(error) : resolve(out.trim().split('\n').join(',')))));
    try {
      assert.equal(fuse.setLongCache(30), 0);
      assert.equal(await ls(), 'one');
      assert.equal(fuse.cacheStats().noOpendir, true, 'the kernel was told to open directories by itself');
      names = ['one', 'two'];
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(await ls(), 'one', 'the kernel keeps the listing (nothing invalidated it)');
      fuse.setLongCache(0);
      let seen = await ls();
      for (let i = 0; i < 40 && seen !== 'one,two'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        seen = await ls();
      }
      assert.equal(seen, 'one,two', 'a kept listing outlived the loss of trust');
    } finally {
      await new Promise<void>((resolve) => fuse.unmount(() => resolve()));
    }
  });
});
