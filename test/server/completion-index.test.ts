// The daemon's wiring between the workspace index and completion: snippets that index lookups
// brought into the builtin engine are dropped when the workspace's files change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestEnv, startTestDaemon } from '../helpers/index.js';
import { eventually, tempDir, writeTree } from '../index/helpers.js';

test('a resync that changed files makes completion forget its index hits; one that changed nothing does not', async () => {
  const testEnv = makeTestEnv();
  const ws = tempDir();
  writeTree(ws.dir, { 'src/a.ts': 'export const total = sumPrices(cart.items);\n', 'src/b.ts': 'export const count = 1;\n' });
  const daemon = await startTestDaemon(testEnv, { roots: [ws.dir] });
  try {
    const { completion, index } = daemon.runtime.services;
    let forgotten = 0;
    const forget = completion.forgetIndexHits.bind(completion);
    completion.forgetIndexHits = () => {
      forgotten++;
      forget();
    };
    const root = realpathSync(ws.dir);
    await eventually(() => index.get(root)?.state === 'ready');
    const workspace = index.get(root)!;
    forgotten = 0; // the first sync indexed every file: that counts as a change too

    // Nothing changed: a full resync leaves the hits alone.
    workspace.reindex(true, undefined, 'test');
    await workspace.nextSync();
    assert.equal(forgotten, 0);

    // A file changes on disk: the watcher's sync changed it, and the hits go.
    writeFileSync(join(ws.dir, 'src/b.ts'), 'export const count = 2;\n');
    await eventually(() => forgotten > 0);
  } finally {
    await daemon.stop('test');
    testEnv.cleanup();
    ws.cleanup();
  }
});
