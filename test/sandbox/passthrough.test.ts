// Kernel FUSE passthrough for reads of lower files (patches/fuse-native+2.2.6.patch, cc_io): the
// setting, and on a real mount: content, mmap, attributes, the mixed sequences the kernel's io
// modes would answer with EIO if the binding got them wrong (a file open for passthrough reading,
// then opened for writing, and the reverse; the user replacing a file that is open), the user's
// tree never written, and the same sequences with passthrough off.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { FuseMount } from '../../sandbox/fuse-mount.js';
import { DEFAULT_PASSTHROUGH_MIN_BYTES, passthroughMinBytes } from '../../sandbox/fuse-server.js';
import { hashTree } from './tree.js';

describe('passthrough setting (CARET_SHADOW_PASSTHROUGH)', () => {
  test('on by default, off, or a threshold in bytes; anything else is an error', () => {
    assert.equal(passthroughMinBytes(undefined), DEFAULT_PASSTHROUGH_MIN_BYTES);
    assert.equal(passthroughMinBytes(''), DEFAULT_PASSTHROUGH_MIN_BYTES);
    assert.equal(passthroughMinBytes('on'), DEFAULT_PASSTHROUGH_MIN_BYTES);
    assert.equal(passthroughMinBytes('off'), null);
    assert.equal(passthroughMinBytes('0'), null, '0 means off, as for the other switches');
    assert.equal(passthroughMinBytes('4096'), 4096);
    assert.throws(() => passthroughMinBytes('1MB'), /CARET_SHADOW_PASSTHROUGH/);
  });
});

/** Whether this kernel can do passthrough for us: built in, and we may register backing files. */
function kernelHasPassthrough(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    return /^CONFIG_FUSE_PASSTHROUGH=y$/m.test(gunzipSync(fs.readFileSync('/proc/config.gz')).toString());
  } catch {
    return false;
  }
}

const base = fs.mkdtempSync('/tmp/caret-pt-');
after(() => fs.rmSync(base, { recursive: true, force: true }));
let mounts = 0;

async function withMount(minBytes: number | null, files: Record<string, Buffer>, body: (m: { mount: FuseMount; lower: string; mnt: string; upper: string }) => Promise<void>) {
  const dir = join(base, `m${++mounts}`);
  const lower = join(dir, 'lower');
  fs.mkdirSync(lower, { recursive: true });
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(join(lower, name), content);
  for (const name of ['upper', 'meta', 'mnt']) fs.mkdirSync(join(dir, name));
  const mnt = join(dir, 'mnt');
  const upper = join(dir, 'upper');
  const mount = await FuseMount.start({ lower, upper, metaDir: join(dir, 'meta'), mountPath: mnt, cacheSeconds: 30, passthroughMinBytes: minBytes });
  try {
    await body({ mount, lower, mnt, upper });
  } finally {
    await mount.stop();
  }
}

async function passthrough(mount: FuseMount) {
  const state = await mount.kernelCache();
  assert.ok(state?.passthrough, 'the binding reports passthrough state');
  return state.passthrough;
}

/**
 * The state once the kernel's RELEASEs of files closed so far have arrived (it sends them after
 * close returns): fails if a passthrough open or backing file is still counted after 5 s.
 */
async function settled(mount: FuseMount) {
  let state = await passthrough(mount);
  for (let i = 0; i < 100 && (state.live > 0 || state.backings > 0); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    state = await passthrough(mount);
  }
  assert.equal(state.live, 0, 'no passthrough open left counted');
  assert.equal(state.backings, 0, 'no backing file left open');
  return state;
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.alloc(length);
  const n = fs.readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, n);
}

/** Polls `check` for up to 5 s (the mount's own timeouts are 30 s: only invalidation shows a change sooner). */
async function soon(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(check(), `${what}: not seen within 5 s`);
}

const expectPassthrough = kernelHasPassthrough();

for (const mode of ['on', 'off'] as const) {
  describe(`reads through the mount, passthrough ${mode}`, () => {
    const minBytes = mode === 'on' ? 4096 : null;
    const big = randomBytes(3 << 20);
    const small = Buffer.from('small file\n');
    // With passthrough, an open that cannot join a node's mode gets a node of its own, so a file
    // opened before the change keeps reading what it opened (as on overlayfs). Without it, every
    // open of a name shares the one kernel inode and its page cache: an earlier open may read the
    // newer content; either way it must read without error.
    const keepsOld = mode === 'on' && expectPassthrough;

    test('content, mmap (git hash-object) and attributes equal the user file; small files are not passed through', async () => {
      await withMount(minBytes, { 'big.bin': big, 'small.txt': small }, async ({ mount, lower, mnt }) => {
        const before = hashTree(lower);
        assert.ok(fs.readFileSync(join(mnt, 'big.bin')).equals(big));
        const afterBig = await settled(mount);
        assert.equal(afterBig.negotiated, mode === 'on' && expectPassthrough);
        assert.equal(afterBig.opens, mode === 'on' && expectPassthrough ? 1 : 0);
        assert.ok(fs.readFileSync(join(mnt, 'small.txt')).equals(small));
        assert.equal((await passthrough(mount)).opens, afterBig.opens, 'below the threshold: the page cache path');
        const hash = (file: string) => execFileSync('git', ['hash-object', file]).toString().trim();
        assert.equal(hash(join(mnt, 'big.bin')), hash(join(lower, 'big.bin')));
        const viewStat = fs.statSync(join(mnt, 'big.bin'), { bigint: true });
        const userStat = fs.statSync(join(lower, 'big.bin'), { bigint: true });
        assert.equal(viewStat.size, userStat.size);
        assert.equal(viewStat.mtimeNs, userStat.mtimeNs);
        // Two readers at once share one backing file.
        const a = fs.openSync(join(mnt, 'big.bin'), 'r');
        const b = fs.openSync(join(mnt, 'big.bin'), 'r');
        assert.ok(readAt(a, 100, 1 << 20).equals(big.subarray(1 << 20, (1 << 20) + 100)));
        assert.ok(readAt(b, 100, 2 << 20).equals(big.subarray(2 << 20, (2 << 20) + 100)));
        const both = await passthrough(mount);
        assert.equal(both.live, mode === 'on' && expectPassthrough ? 2 : 0);
        assert.equal(both.backings, mode === 'on' && expectPassthrough ? 1 : 0);
        fs.closeSync(a);
        fs.closeSync(b);
        assert.equal(hashTree(lower), before, "the user's tree is unchanged");
      });
    });

    test('a file open for reading, then opened for writing (copy-up), and read again while both are open: no EIO', async () => {
      await withMount(minBytes, { 'big.bin': big, 'other.bin': big }, async ({ mount, lower, mnt, upper }) => {
        const before = hashTree(lower);
        const reader = fs.openSync(join(mnt, 'big.bin'), 'r');
        assert.ok(readAt(reader, 16, 0).equals(big.subarray(0, 16)));
        const writer = fs.openSync(join(mnt, 'big.bin'), 'r+');
        fs.writeSync(writer, Buffer.from('written'), 0, 7, 0);
        const second = fs.openSync(join(mnt, 'big.bin'), 'r');
        assert.equal(readAt(second, 7, 0).toString(), 'written', 'a new reader sees the shadow copy');
        const first = readAt(reader, 16, 0);
        if (keepsOld) assert.ok(first.equals(big.subarray(0, 16)), 'the first reader keeps the file it opened');
        else assert.equal(first.length, 16);
        if (keepsOld) {
          const state = await passthrough(mount);
          assert.ok(state.splits >= 1, `the write open got a node of its own: ${JSON.stringify(state)}`);
        }
        fs.closeSync(writer);
        fs.closeSync(second);
        fs.closeSync(reader);
        assert.equal(fs.readFileSync(join(upper, 'big.bin')).subarray(0, 7).toString(), 'written');
        // And the reverse: held open for writing, then opened for reading.
        const writer2 = fs.openSync(join(mnt, 'big.bin'), 'r+');
        const reader2 = fs.openSync(join(mnt, 'big.bin'), 'r');
        fs.writeSync(writer2, Buffer.from('again'), 0, 5, 0);
        assert.equal(readAt(reader2, 5, 0).toString(), 'again');
        fs.closeSync(reader2);
        fs.closeSync(writer2);
        // Truncated by name while a reader of the user's file is open, then read by a new open.
        fs.rmSync(join(mnt, 'big.bin'));
        const reader3 = fs.openSync(join(mnt, 'other.bin'), 'r');
        fs.truncateSync(join(mnt, 'other.bin'), 10);
        assert.ok(fs.readFileSync(join(mnt, 'other.bin')).equals(big.subarray(0, 10)));
        assert.equal(readAt(reader3, 10, 0).length, 10);
        fs.closeSync(reader3);
        // Splits are not counted here: the open after truncate needs one only while the kernel still
        // holds the passthrough node, and the watchers' invalidations, which arrive whenever they
        // do, may have given the name a fresh node first. The reads above are what must hold.
        await settled(mount);
        assert.equal(hashTree(lower), before, "the user's tree is never written");
      });
    });

    test("the user's changes to an open lower file show through: in place at once, a replaced file within the invalidation", async () => {
      await withMount(minBytes, { 'big.bin': big }, async ({ mount, lower, mnt }) => {
        const reader = fs.openSync(join(mnt, 'big.bin'), 'r');
        assert.ok(readAt(reader, 16, 0).equals(big.subarray(0, 16)));
        // The user replaces the file (a new inode, as editors save), while it is open in the shadow.
        const next = randomBytes(2 << 20);
        fs.writeFileSync(join(lower, 'big.bin.tmp'), next);
        fs.renameSync(join(lower, 'big.bin.tmp'), join(lower, 'big.bin'));
        await soon(() => {
          try {
            const fd = fs.openSync(join(mnt, 'big.bin'), 'r');
            const head = readAt(fd, 16, 0);
            fs.closeSync(fd);
            return head.equals(next.subarray(0, 16));
          } catch (error) {
            assert.fail(`opening the replaced file failed: ${(error as Error).message}`);
          }
        }, 'the replaced file');
        const old = readAt(reader, 16, 0);
        if (keepsOld) assert.ok(old.equals(big.subarray(0, 16)), 'the open file is still the old one');
        else assert.equal(old.length, 16);
        fs.closeSync(reader);
        await soon(() => fs.statSync(join(mnt, 'big.bin')).size === next.length, 'the new size');
        assert.ok(fs.readFileSync(join(mnt, 'big.bin')).equals(next));
        // Changed in place: the same file, so readers see it (passthrough reads the user's file).
        const fd = fs.openSync(join(lower, 'big.bin'), 'r+');
        fs.writeSync(fd, Buffer.from('in place'), 0, 8, 0);
        fs.closeSync(fd);
        await soon(() => fs.readFileSync(join(mnt, 'big.bin')).subarray(0, 8).toString() === 'in place', 'the change in place');
        await settled(mount);
      });
    });
  });
}

/** A process that opens random files of the mount (`r`: read-only, keeping 20 open; `w`: for writing) or replaces random files of the user's tree (`l`), and reports the errors it met. */
const WORKER = `
const fs = require('fs');
const [mnt, lower, role, count, files] = process.argv.slice(1);
const errors = {};
const held = [];
for (let i = 0; i < Number(count); i++) {
  const name = 'f' + Math.floor(Math.random() * Number(files));
  try {
    if (role === 'r') {
      const fd = fs.openSync(mnt + '/' + name, 'r');
      fs.readSync(fd, Buffer.alloc(64), 0, 64, 0);
      held.push(fd);
      if (held.length > 20) fs.closeSync(held.shift());
    } else if (role === 'w') {
      const fd = fs.openSync(mnt + '/' + name, 'r+');
      fs.writeSync(fd, 'x', 10);
      fs.closeSync(fd);
    } else {
      fs.writeFileSync(lower + '/.next', Buffer.alloc(8192, 1));
      fs.renameSync(lower + '/.next', lower + '/' + name);
    }
  } catch (error) {
    errors[error.code] = (errors[error.code] || 0) + 1;
  }
}
for (const fd of held) fs.closeSync(fd);
process.stdout.write(JSON.stringify(errors));
`;

describe('passthrough under concurrent opens', () => {
  test('readers holding files open, writers copying them up and the user replacing them, at once: no open fails', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 300; i++) files[`f${i}`] = Buffer.alloc(8192, i & 255);
    await withMount(4096, files, async ({ mount, lower, mnt }) => {
      const run = (role: string, count: number) =>
        new Promise<Record<string, number>>((resolve, reject) => {
          const child = spawn(process.execPath, ['-e', WORKER, mnt, lower, role, String(count), '300'], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          child.on('error', reject);
          child.on('exit', () => resolve(JSON.parse(out || '{}') as Record<string, number>));
        });
      const results = await Promise.all([run('r', 600), run('r', 600), run('w', 150), run('l', 300)]);
      assert.deepEqual(results, [{}, {}, {}, {}], 'errors met by the readers, writers and the user');
      const state = await settled(mount);
      if (expectPassthrough) assert.ok(state.opens > 0 && state.splits > 0, `passthrough opens and moves happened (${JSON.stringify(state)})`);
    });
  });
});
