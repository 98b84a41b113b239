// The index writer's SQLite costs: how FTS5 flushes the words of a batch, and how often the WAL
// is checkpointed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { type BatchItem, IDLE_WAL_BYTES, IndexWriter, openIndexDatabase, openReader, SecondPass, trimWal } from '../../daemon/index/store.js';
import { tempDir } from './helpers.js';

/** The segment count of an FTS5 index, from its structure record (version 2 layout). */
function ftsSegments(block: Buffer): number {
  assert.deepEqual([...block.subarray(4, 8)], [0xff, 0x00, 0x00, 0x01], 'a version 2 structure record');
  // Cookie (4 bytes), version marker (4), level count (varint), segment count (varint).
  assert.ok(block[8]! < 0x80 && block[9]! < 0x80, 'small counts fit one byte each');
  return block[9]!;
}

test('a batch of files in one transaction reaches FTS5 as one segment, not one per file, new or rewritten', () => {
  const dir = tempDir();
  const { db } = openIndexDatabase(join(dir.dir, 'index.db'), dir.dir);
  try {
    const writer = new IndexWriter(db);
    const stat = { size: 10, mtimeMs: 1, ino: 1 };
    const batch = (round: number): BatchItem[] =>
      Array.from({ length: 40 }, (_, i) => ({
        path: `f${i}.ts`,
        known: round > 0,
        result: {
          kind: 'indexed',
          hash: `h${round}-${i}`,
          ...stat,
          language: 'typescript',
          chunks: [{ id: `c${round}-${i}`, startLine: 0, endLine: 0, container: [], defines: [], content: `word${i}`, words: `word${i} round${round}` }],
          symbols: [],
          pending: SecondPass.Done,
        },
      }));
    const write = writer.transaction((items: BatchItem[]) => writer.writeBatch(items));
    const block = () => db.prepare('SELECT block FROM fts_words_data WHERE id = 10').pluck().get() as Buffer;
    write(batch(0));
    assert.equal(ftsSegments(block()), 1);
    // Every file again (the second pass, a branch switch): its old rows are deleted first.
    write(batch(1));
    assert.ok(ftsSegments(block()) <= 2, `the rewrite flushed ${ftsSegments(block())} segments`);
    assert.equal(db.prepare("SELECT count(*) FROM fts_words WHERE fts_words MATCH 'round1'").pluck().get(), 40);
    assert.equal(db.prepare("SELECT count(*) FROM fts_words WHERE fts_words MATCH 'round0'").pluck().get(), 0);
  } finally {
    db.close();
    dir.cleanup();
  }
});

test('the writer checkpoints the WAL every 64 MB and cuts it back to that size', () => {
  const dir = tempDir();
  const { db } = openIndexDatabase(join(dir.dir, 'index.db'), dir.dir);
  try {
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 16384);
    assert.equal(db.pragma('journal_size_limit', { simple: true }), 64 * 1024 * 1024);
  } finally {
    db.close();
    dir.cleanup();
  }
});

test('an idle indexer truncates a large WAL, and never waits for a reader to do it', () => {
  const dir = tempDir();
  const file = join(dir.dir, 'index.db');
  const { db } = openIndexDatabase(file, dir.dir);
  try {
    const writer = new IndexWriter(db);
    const stat = { size: 10, mtimeMs: 1, ino: 1 };
    const content = 'x'.repeat(64 * 1024);
    writer.transaction(() => {
      for (let i = 0; i < 100; i++) {
        writer.writeFile(`f${i}.ts`, stat, `h${i}`, 'typescript', [{ id: `c${i}`, startLine: 0, endLine: 0, container: [], defines: [], content, words: `w${i}` }], []);
      }
    })();
    const walBytes = () => statSync(`${file}-wal`).size;
    assert.ok(walBytes() > IDLE_WAL_BYTES);
    // A reader in the middle of a read: the trim gives up at once instead of waiting.
    const reader = openReader(file);
    const rows = reader.prepare('SELECT id FROM chunks').pluck().iterate();
    rows.next();
    assert.equal(trimWal(db, file), false);
    assert.ok(walBytes() > IDLE_WAL_BYTES);
    rows.return?.();
    reader.close();
    assert.equal(trimWal(db, file), true);
    assert.equal(walBytes(), 0);
    assert.equal(db.prepare('SELECT count(*) FROM chunks').pluck().get(), 100);
  } finally {
    db.close();
    dir.cleanup();
  }
});
