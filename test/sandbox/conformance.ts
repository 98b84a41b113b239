// The filesystem conformance suite: the same checks run on a shadow mount and on a plain
// directory holding the same files (the reference). Each returns nothing and throws on failure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ConformanceTarget {
  /** The directory under test (mount point, or plain directory). */
  root: string;
  /** Where a "user" edit to an unmodified file goes (the lower layer; the same dir for the reference). */
  lower: string;
}

export const conformanceCases: Array<[string, (t: ConformanceTarget) => Promise<void> | void]> = [
  ['reads files, directories and symlinks as they are', ({ root }) => {
    assert.equal(fs.readFileSync(join(root, 'src/a.txt'), 'utf8'), 'one\ntwo\nthree\nfour\nfive\n');
    assert.deepEqual(fs.readdirSync(join(root, 'src')).sort(), ['a.txt', 'b.txt', 'deep']);
    assert.equal(fs.readlinkSync(join(root, 'link-to-a')), 'src/a.txt');
    assert.equal(fs.readFileSync(join(root, 'link-to-a'), 'utf8').startsWith('one'), true);
    assert.equal(fs.statSync(join(root, 'tool.sh')).mode & 0o777, 0o755);
  }],
  ['creates, writes, appends and reads back', ({ root }) => {
    fs.writeFileSync(join(root, 'new.txt'), 'hello');
    fs.appendFileSync(join(root, 'new.txt'), ' world');
    assert.equal(fs.readFileSync(join(root, 'new.txt'), 'utf8'), 'hello world');
    fs.appendFileSync(join(root, 'src/b.txt'), 'more\n');
    assert.equal(fs.readFileSync(join(root, 'src/b.txt'), 'utf8'), 'bee\nmore\n');
    const fd = fs.openSync(join(root, 'src/deep/c.txt'), 'r+');
    fs.writeSync(fd, 'S', 0);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    assert.equal(fs.readFileSync(join(root, 'src/deep/c.txt'), 'utf8'), 'Sea\n');
  }],
  ['truncates', ({ root }) => {
    fs.truncateSync(join(root, 'src/a.txt'), 3);
    assert.equal(fs.readFileSync(join(root, 'src/a.txt'), 'utf8'), 'one');
    fs.writeFileSync(join(root, 'README.md'), '');
    assert.equal(fs.statSync(join(root, 'README.md')).size, 0);
  }],
  ['renames over existing files and empty directories', ({ root }) => {
    fs.renameSync(join(root, 'src/b.txt'), join(root, 'src/a.txt'));
    assert.equal(fs.readFileSync(join(root, 'src/a.txt'), 'utf8'), 'bee\n');
    assert.equal(fs.existsSync(join(root, 'src/b.txt')), false);
    fs.mkdirSync(join(root, 'target'));
    fs.renameSync(join(root, 'gone'), join(root, 'target'));
    assert.deepEqual(fs.readdirSync(join(root, 'target')).sort(), ['inner', 'y.txt']);
    assert.equal(fs.readFileSync(join(root, 'target/inner/x.txt'), 'utf8'), 'x\n');
    assert.equal(fs.existsSync(join(root, 'gone')), false);
    assert.throws(() => fs.renameSync(join(root, 'src'), join(root, 'target')), /ENOTEMPTY|EEXIST/);
  }],
  ['unlinks and removes directories, and the names stay gone', ({ root }) => {
    fs.unlinkSync(join(root, 'src/a.txt'));
    assert.equal(fs.existsSync(join(root, 'src/a.txt')), false);
    assert.deepEqual(fs.readdirSync(join(root, 'src')).sort(), ['b.txt', 'deep']);
    assert.throws(() => fs.rmdirSync(join(root, 'gone')), /ENOTEMPTY/);
    fs.rmSync(join(root, 'gone'), { recursive: true });
    assert.equal(fs.existsSync(join(root, 'gone')), false);
    fs.rmdirSync(join(root, 'empty'));
    // Re-creating a deleted directory shows none of its old contents.
    fs.mkdirSync(join(root, 'gone'));
    assert.deepEqual(fs.readdirSync(join(root, 'gone')), []);
    fs.writeFileSync(join(root, 'src/a.txt'), 'again');
    assert.equal(fs.readFileSync(join(root, 'src/a.txt'), 'utf8'), 'again');
  }],
  ['merges directory listings', ({ root }) => {
    fs.writeFileSync(join(root, 'src/z.txt'), 'z');
    fs.unlinkSync(join(root, 'src/b.txt'));
    assert.deepEqual(fs.readdirSync(join(root, 'src')).sort(), ['a.txt', 'deep', 'z.txt']);
  }],
  ['changes permissions and ownership', ({ root }) => {
    fs.chmodSync(join(root, 'src/a.txt'), 0o600);
    assert.equal(fs.statSync(join(root, 'src/a.txt')).mode & 0o777, 0o600);
    fs.chownSync(join(root, 'src/a.txt'), 1234, 4321);
    const st = fs.statSync(join(root, 'src/a.txt'));
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 4321);
    fs.mkdirSync(join(root, 'private'), { mode: 0o700 });
    assert.equal(fs.statSync(join(root, 'private')).mode & 0o777, 0o700);
  }],
  ['creates symlinks and hard links with stable inode numbers', async ({ root }) => {
    fs.symlinkSync('deep/c.txt', join(root, 'src/sym'));
    assert.equal(fs.readlinkSync(join(root, 'src/sym')), 'deep/c.txt');
    assert.equal(fs.readFileSync(join(root, 'src/sym'), 'utf8'), 'sea\n');
    fs.linkSync(join(root, 'src/a.txt'), join(root, 'src/hard'));
    const a = fs.statSync(join(root, 'src/a.txt'));
    const h = fs.statSync(join(root, 'src/hard'));
    assert.equal(a.ino, h.ino);
    assert.equal(h.nlink, 2);
    // The other name's cached attributes refresh within the attribute timeout (no kernel cache
    // invalidation in libfuse 2's high-level API; docs/shadow.md).
    const deadline = Date.now() + 2500;
    while (fs.statSync(join(root, 'src/a.txt')).nlink !== 2 && Date.now() < deadline) await sleep(100);
    assert.equal(fs.statSync(join(root, 'src/a.txt')).nlink, 2);
    fs.appendFileSync(join(root, 'src/hard'), 'X');
    const until = Date.now() + 2500;
    while (!fs.readFileSync(join(root, 'src/a.txt'), 'utf8').endsWith('X') && Date.now() < until) await sleep(100);
    assert.equal(fs.readFileSync(join(root, 'src/a.txt'), 'utf8').endsWith('X'), true);
    assert.equal(fs.statSync(join(root, 'src/a.txt')).ino, a.ino);
  }],
  ['keeps a directory\'s inode number when a change inside it copies it up', async ({ root }) => {
    const before = fs.statSync(join(root, 'src/deep')).ino;
    const parent = fs.statSync(join(root, 'src')).ino;
    fs.writeFileSync(join(root, 'src/deep/new.txt'), 'n');
    await sleep(300); // the upper layer's watcher drops the kernel's cached attributes
    assert.equal(fs.statSync(join(root, 'src/deep')).ino, before);
    assert.equal(fs.statSync(join(root, 'src/deep/..')).ino, parent, 'the parent as a tree walker sees it');
  }],
  ['keeps nanosecond timestamps (utimens sets atime and mtime separately)', ({ root }) => {
    const target = join(root, 'src/a.txt');
    fs.utimesSync(target, new Date('2001-02-03T04:05:06.789Z'), new Date('2011-12-13T14:15:16.125Z'));
    const st = fs.statSync(target, { bigint: true });
    assert.equal(st.atimeNs, 981173106789000000n);
    assert.equal(st.mtimeNs, 1323785716125000000n);
    // touch passes nanoseconds through utimensat.
    const touch = fs.statSync(join(root, 'src/b.txt'), { bigint: true });
    assert.equal(typeof touch.mtimeNs, 'bigint');
  }],
  ['changes atime alone and mtime alone (utimensat with UTIME_OMIT)', ({ root }) => {
    const target = join(root, 'src/b.txt');
    fs.utimesSync(target, new Date('2001-01-01T00:00:00Z'), new Date('2002-02-02T00:00:00Z'));
    execFileSync('touch', ['-a', '-d', '@1900000000', target]);
    let st = fs.statSync(target);
    assert.equal(st.atimeMs, 1900000000_000);
    assert.equal(st.mtimeMs, Date.parse('2002-02-02T00:00:00Z'));
    execFileSync('touch', ['-m', '-d', '@1950000000', target]);
    st = fs.statSync(target);
    assert.equal(st.atimeMs, 1900000000_000);
    assert.equal(st.mtimeMs, 1950000000_000);
  }],
  ['reads and writes a large file', ({ root }) => {
    const data = randomBytes(12 * 1024 * 1024 + 123);
    fs.writeFileSync(join(root, 'big.bin'), data);
    const back = fs.readFileSync(join(root, 'big.bin'));
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(data).digest('hex'));
  }],
  ['serves concurrent writers', async ({ root }) => {
    await Promise.all(Array.from({ length: 16 }, (_, i) => fs.promises.writeFile(join(root, `c${i}.txt`), `writer ${i}\n`.repeat(1000))));
    const handle = await fs.promises.open(join(root, 'shared.bin'), 'w+');
    await Promise.all(Array.from({ length: 16 }, (_, i) => handle.write(Buffer.alloc(4096, i), 0, 4096, i * 4096)));
    await handle.close();
    for (let i = 0; i < 16; i++) assert.equal(fs.readFileSync(join(root, `c${i}.txt`), 'utf8'), `writer ${i}\n`.repeat(1000));
    const shared = fs.readFileSync(join(root, 'shared.bin'));
    for (let i = 0; i < 16; i++) assert.equal(shared[i * 4096 + 100], i);
  }],
  ['refuses names longer than 255 bytes', ({ root }) => {
    assert.throws(() => fs.writeFileSync(join(root, 'x'.repeat(256)), ''), /ENAMETOOLONG/);
    assert.throws(() => fs.statSync(join(root, 'src', 'y'.repeat(256))), /ENAMETOOLONG/);
    fs.writeFileSync(join(root, 'z'.repeat(255)), 'ok');
    assert.equal(fs.readFileSync(join(root, 'z'.repeat(255)), 'utf8'), 'ok');
  }],
  ['lists entries with their types', ({ root }) => {
    const types = Object.fromEntries(fs.readdirSync(root, { withFileTypes: true }).map((e) => [e.name, e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'symlink' : e.isFile() ? 'file' : 'other']));
    assert.equal(types['src'], 'dir');
    assert.equal(types['README.md'], 'file');
    assert.equal(types['link-to-a'], 'symlink');
    assert.equal(types['tool.sh'], 'file');
  }],
  ['extended attributes and statfs', ({ root }) => {
    const st = fs.statfsSync(root);
    assert.ok(st.blocks > 0 && st.bsize > 0);
  }],
  ['shows a change to an unmodified file in the user tree within a second or so', async ({ root, lower }) => {
    fs.readFileSync(join(root, 'src/deep/c.txt'));
    fs.writeFileSync(join(lower, 'src/deep/c.txt'), 'changed by the user, longer\n');
    fs.writeFileSync(join(lower, 'src/new-from-user.txt'), 'new');
    const deadline = Date.now() + 2500;
    let seen = '';
    while (Date.now() < deadline) {
      seen = fs.readFileSync(join(root, 'src/deep/c.txt'), 'utf8');
      if (seen === 'changed by the user, longer\n' && fs.existsSync(join(root, 'src/new-from-user.txt'))) break;
      await sleep(100);
    }
    assert.equal(seen, 'changed by the user, longer\n');
    assert.equal(fs.readFileSync(join(root, 'src/new-from-user.txt'), 'utf8'), 'new');
  }],
];
