// The FUSE overlay against the conformance suite, beside the same suite on a plain directory;
// the user's tree is hashed before and after every case and must be byte-identical.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FuseMount } from '../../sandbox/fuse-mount.js';
import { isMounted } from '../../sandbox/mounts.js';
import { conformanceCases } from './conformance.js';
import { hashTree, makeUserTree } from './tree.js';

const base = fs.mkdtempSync('/tmp/caret-ov-');
after(() => fs.rmSync(base, { recursive: true, force: true }));
let counter = 0;

function fixture() {
  const dir = join(base, String(counter++));
  const lower = join(dir, 'lower');
  fs.mkdirSync(lower, { recursive: true });
  makeUserTree(lower);
  for (const name of ['upper', 'meta', 'mnt']) fs.mkdirSync(join(dir, name));
  return { dir, lower, upper: join(dir, 'upper'), metaDir: join(dir, 'meta'), mountPath: join(dir, 'mnt') };
}

describe('conformance: plain directory (reference)', () => {
  for (const [name, run] of conformanceCases) {
    test(name, async () => {
      const { lower } = fixture();
      await run({ root: lower, lower });
    });
  }
});

describe('conformance: FUSE shadow mount', () => {
  for (const [name, run] of conformanceCases) {
    test(name, async () => {
      const f = fixture();
      const writesLower = name.startsWith('shows a change');
      const before = hashTree(f.lower);
      const mount = await FuseMount.start({ ...f, cacheSeconds: 1 });
      try {
        await run({ root: f.mountPath, lower: f.lower });
      } finally {
        await mount.stop();
      }
      assert.equal(isMounted(f.mountPath), false);
      if (!writesLower) assert.equal(hashTree(f.lower), before, 'the user tree changed');
    });
  }
});

describe('overlay specifics', () => {
  test('deletions are overlayfs whiteouts in the upper layer, readable by a kernel overlay of the same layers', async () => {
    const f = fixture();
    const before = hashTree(f.lower);
    const mount = await FuseMount.start({ ...f, cacheSeconds: 1 });
    try {
      fs.unlinkSync(join(f.mountPath, 'src/b.txt'));
      fs.rmSync(join(f.mountPath, 'gone'), { recursive: true });
      fs.mkdirSync(join(f.mountPath, 'gone'));
      fs.writeFileSync(join(f.mountPath, 'gone/fresh.txt'), 'fresh');
      fs.writeFileSync(join(f.mountPath, 'src/a.txt'), 'rewritten');
    } finally {
      await mount.stop();
    }
    const st = fs.lstatSync(join(f.upper, 'src/b.txt'));
    assert.ok(st.isCharacterDevice() && st.rdev === 0, 'whiteout is a 0/0 character device');
    // The kernel's own overlayfs sees the same view.
    const work = join(f.dir, 'work');
    const view = join(f.dir, 'kview');
    fs.mkdirSync(work);
    fs.mkdirSync(view);
    const { execFileSync } = await import('node:child_process');
    const listing = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
      `mount -t overlay x -o lowerdir=${f.lower},upperdir=${f.upper},workdir=${work},redirect_dir=off,index=off,metacopy=off,xino=off ${view} && ls ${view}/src ${view}/gone && cat ${view}/src/a.txt`], { encoding: 'utf8' });
    assert.match(listing, /a\.txt\s+deep/);
    assert.doesNotMatch(listing, /b\.txt/);
    assert.match(listing, /fresh\.txt/);
    assert.doesNotMatch(listing, /y\.txt|inner/);
    assert.match(listing, /rewritten/);
    assert.equal(hashTree(f.lower), before);
  });

  test('refuses device nodes and hides overlay xattrs', async () => {
    const f = fixture();
    const mount = await FuseMount.start({ ...f, cacheSeconds: 1 });
    try {
      const { spawnSync } = await import('node:child_process');
      const made = spawnSync('mknod', [join(f.mountPath, 'disk'), 'b', '8', '0']);
      assert.notEqual(made.status, 0);
      assert.equal(fs.existsSync(join(f.mountPath, 'disk')), false);
      fs.mkdirSync(join(f.mountPath, 'empty2'));
      const xattrs = spawnSync('getfattr', ['-d', '-m', '-', join(f.mountPath, 'empty2')], { encoding: 'utf8' });
      assert.doesNotMatch(xattrs.stdout ?? '', /overlay/);
    } finally {
      await mount.stop();
    }
  });

  test('a killed FUSE server leaves no usable stale mount behind once stopped', async () => {
    const f = fixture();
    const before = hashTree(f.lower);
    const mount = await FuseMount.start({ ...f, cacheSeconds: 1 });
    const writer = fs.openSync(join(f.mountPath, 'src/a.txt'), 'r+');
    fs.writeSync(writer, 'partial');
    mount.kill();
    await new Promise((resolve) => mount.once('exit', resolve));
    try {
      fs.closeSync(writer);
    } catch {}
    await mount.stop();
    assert.equal(isMounted(f.mountPath), false);
    assert.equal(hashTree(f.lower), before);
  });
});
