// A closed index leaves nothing running: no indexer, parse or search thread and no open handle
// on its database, however many times a daemon opens and closes workspaces (Linux: read from
// /proc, which lists the process's threads and file descriptors).
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { daemonMallocEnv, indexDatabasePath } from '../../daemon/index/index.js';
import { makeService, openReady, tempDir, writeTree } from './helpers.js';

const linux = process.platform === 'linux';
const liveThreads = () => readdirSync('/proc/self/task').length;
const handlesOn = (file: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(file);
    } catch {
      return false; // closed between the listing and the read
    }
  }).length;

test('opening and closing an index twice leaves no thread and no database handle behind', { skip: !linux && 'reads /proc' }, async () => {
  const { dir: root, cleanup } = tempDir();
  const { dir: cacheDir, cleanup: cleanupCache } = tempDir('caret-ix-cache-');
  try {
    writeTree(root, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`src/f${i}.ts`, `export function handler${i}(value: number) {\n  return value * ${i};\n}\n`])));
    const dbFile = indexDatabasePath(cacheDir, root);
    const cycle = async () => {
      const service = makeService(cacheDir, { watch: false });
      const index = await openReady(service, root);
      assert.ok(index.search({ query: 'handler7', limit: 5, mode: 'lexical' }).length > 0);
      assert.ok(await index.query({ query: 'handler7', limit: 5, mode: 'lexical' }));
      assert.ok(handlesOn(dbFile) > 0, 'an open index holds its database');
      await service.dispose();
    };
    // The first cycle may start threads that live as long as the process (libuv's pool).
    await cycle();
    const threads = liveThreads();
    assert.equal(handlesOn(dbFile), 0);
    await cycle();
    await cycle();
    assert.equal(liveThreads(), threads);
    assert.equal(handlesOn(dbFile), 0);
  } finally {
    cleanup();
    cleanupCache();
  }
});

test('a daemon on Linux starts with a fixed malloc mmap threshold, unless malloc is already tuned', () => {
  assert.deepEqual(daemonMallocEnv({}, 'linux'), { MALLOC_MMAP_THRESHOLD_: '131072' });
  assert.deepEqual(daemonMallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux'), { MALLOC_MMAP_THRESHOLD_: '131072' });
  assert.deepEqual(daemonMallocEnv({ MALLOC_MMAP_THRESHOLD_: '65536' }, 'linux'), {});
  assert.deepEqual(daemonMallocEnv({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=262144' }, 'linux'), {});
  assert.deepEqual(daemonMallocEnv({}, 'darwin'), {});
});
