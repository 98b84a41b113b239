// Helpers for shadow tests: a fixture "user tree" and its hash, which must be identical after
// every test (nothing but accept may write there).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { FuseMount, KernelCacheState } from '../../sandbox/fuse-mount.js';

export function hashTree(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string, prefix: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = join(dir, name);
      const st = fs.lstatSync(full, { bigint: true });
      hash.update(`${prefix}${name}\0${st.mode}\0${st.mtimeNs}\0`);
      if (st.isDirectory()) walk(full, `${prefix}${name}/`);
      else if (st.isSymbolicLink()) hash.update(fs.readlinkSync(full));
      else if (st.isFile()) hash.update(fs.readFileSync(full));
    }
  };
  walk(root, '');
  return hash.digest('hex');
}

export function makeUserTree(root: string): void {
  fs.mkdirSync(join(root, 'src', 'deep'), { recursive: true });
  fs.mkdirSync(join(root, 'empty'));
  fs.mkdirSync(join(root, 'gone', 'inner'), { recursive: true });
  fs.writeFileSync(join(root, 'README.md'), '# fixture\n');
  fs.writeFileSync(join(root, 'src', 'a.txt'), 'one\ntwo\nthree\nfour\nfive\n');
  fs.writeFileSync(join(root, 'src', 'b.txt'), 'bee\n');
  fs.writeFileSync(join(root, 'src', 'deep', 'c.txt'), 'sea\n');
  fs.writeFileSync(join(root, 'gone', 'inner', 'x.txt'), 'x\n');
  fs.writeFileSync(join(root, 'gone', 'y.txt'), 'y\n');
  fs.writeFileSync(join(root, 'tool.sh'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
  fs.symlinkSync('src/a.txt', join(root, 'link-to-a'));
  fs.symlinkSync('/etc/passwd', join(root, 'link-out'));
}

/** Waits until the mount trusts long kernel-cache validities (both layers watched); fails after 5 s. */
export async function longValidities(mount: FuseMount): Promise<KernelCacheState> {
  let state = await mount.kernelCache();
  for (let i = 0; i < 100 && !state?.long; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    state = await mount.kernelCache();
  }
  assert.equal(state?.long, true, 'long validities never came on');
  return state!;
}
