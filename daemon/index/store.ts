// The index database: one SQLite file per workspace in the user's cache dir, WAL mode (readers
// never wait for the indexer), written by the indexer thread alone and read by searches.
// A file's rows (chunks, tokens, symbols, vectors) and its stat-cache entry change in one
// transaction, so a file counts as indexed only once everything about it is committed; `kill -9`
// at any point leaves the previous state of each file, which the next resync brings up to date.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as sqliteVec from 'sqlite-vec';
import { CHUNKER_VERSION } from './chunk.js';
import type { IndexedChunk, ProcessResult } from './process-file.js';
import type { FileStat, SkipReason } from './scan.js';
import type { SymbolDefinition } from './syntax.js';

export type Db = Database.Database;

/** Bump when the schema changes: an older database is then rebuilt from the workspace. */
export const SCHEMA_VERSION = 3;

export function indexDatabasePath(cacheDir: string, root: string): string {
  const name = basename(root).replace(/[^\w.-]+/g, '_').slice(0, 40) || 'root';
  const digest = createHash('sha256').update(root).digest('hex').slice(0, 12);
  return join(cacheDir, 'index', `${name}-${digest}.db`);
}

export const embeddingCachePath = (cacheDir: string): string => join(cacheDir, 'index', 'embeddings.db');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  hash TEXT,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  ino INTEGER NOT NULL,
  language TEXT,
  skip_reason TEXT,
  -- What the second pass still owes the file (SecondPass): 0 nothing, 1 trigram rows, 2 a parse
  -- (syntax-aware chunks, symbols) and trigram rows.
  pending INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS files_pending ON files(id) WHERE pending > 0;
CREATE TABLE IF NOT EXISTS dirs (path TEXT PRIMARY KEY, hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL,
  chunk_id TEXT NOT NULL,
  start_line INTEGER NOT NULL,
  end_line INTEGER NOT NULL,
  container TEXT NOT NULL,
  defines TEXT NOT NULL,
  content TEXT NOT NULL,
  embedded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_unembedded ON chunks(id) WHERE embedded = 0;
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE INDEX IF NOT EXISTS chunks_chunk_id ON chunks(chunk_id);
-- Identifier tokens, without positions (queries need none) and without a copy of the text.
CREATE VIRTUAL TABLE IF NOT EXISTS fts_words USING fts5(words, content='', contentless_delete=1, detail='none', tokenize='unicode61 remove_diacritics 2');
-- Trigrams of the chunk text for substring search: LIKE narrows by trigrams, then checks the
-- candidates against chunks.content, so the index needs no positions and no copy of the text.
CREATE VIRTUAL TABLE IF NOT EXISTS fts_grams USING fts5(content, content='chunks', content_rowid='id', detail='none', tokenize='trigram');
CREATE TABLE IF NOT EXISTS symbols (
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  name_lower TEXT NOT NULL,
  kind INTEGER NOT NULL,
  start_line INTEGER NOT NULL,
  end_line INTEGER NOT NULL,
  name_line INTEGER NOT NULL,
  name_character INTEGER NOT NULL,
  container TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name_lower);
CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id);
`;

/** What the second pass still owes a file (`files.pending`). */
export const SecondPass = { Done: 0, Trigrams: 1, Parse: 2 } as const;
export type SecondPass = (typeof SecondPass)[keyof typeof SecondPass];

export interface OpenResult {
  db: Db;
  /** Set when the file was unreadable or from another version and was rebuilt. */
  rebuilt?: string;
}

function configure(db: Db, readonly: boolean): void {
  sqliteVec.load(db);
  db.pragma('busy_timeout = 5000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Checkpoint every 64 MB of WAL instead of every 4 MB (the default): each checkpoint waits on
    // two fsyncs and copies pages that the next batches rewrite anyway (FTS5 segments merge), and
    // the one writer waits with it. On a 29,000-file tree the lexical pass took 40 s with the
    // default and 20 s with this, no slower than with no checkpoint at all (whose WAL reached
    // twice the database's size). The WAL file is cut back to that size after a checkpoint.
    db.pragma('wal_autocheckpoint = 16384');
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  }
  db.pragma('cache_size = -16000');
}

/** Throws when the file is not a usable index of this version. */
function verify(db: Db): void {
  const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get() as string | undefined;
  if (version !== undefined && version !== String(SCHEMA_VERSION)) throw new Error(`schema version ${version}, expected ${SCHEMA_VERSION}`);
  // Touch every table, so a damaged page in any of them shows up now rather than mid-search.
  for (const table of ['files', 'dirs', 'chunks', 'symbols', 'fts_words', 'fts_grams']) db.prepare(`SELECT count(*) FROM ${table} LIMIT 1`).get();
  const check = db.pragma('quick_check(1)', { simple: true });
  if (check !== 'ok') throw new Error(`integrity check: ${String(check)}`);
}

/**
 * Opens (creating if needed) the writable index database. A database that is corrupt, not a
 * database at all, or of another schema version is moved aside and rebuilt from scratch: the
 * index is a cache of the workspace, never the only copy of anything.
 */
export function openIndexDatabase(file: string, root: string): OpenResult {
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  let rebuilt: string | undefined;
  for (let attempt = 0; ; attempt++) {
    let db: Db | undefined;
    try {
      db = new Database(file);
      configure(db, false);
      db.exec(SCHEMA);
      verify(db);
      const set = db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
      set.run('schema', String(SCHEMA_VERSION));
      set.run('root', root);
      const chunker = db.prepare("SELECT value FROM meta WHERE key = 'chunker'").pluck().get() as string | undefined;
      if (chunker !== String(CHUNKER_VERSION)) {
        // New chunk boundaries: every file must be chunked again.
        db.exec('DELETE FROM files; DELETE FROM dirs; DELETE FROM chunks; DELETE FROM symbols; DELETE FROM fts_words; DELETE FROM fts_grams;');
        dropVectors(db);
        set.run('chunker', String(CHUNKER_VERSION));
      }
      return rebuilt ? { db, rebuilt } : { db };
    } catch (error) {
      try {
        db?.close();
      } catch {
        // Closing a broken handle may fail too.
      }
      if (attempt > 0) throw error;
      rebuilt = `the index database ${file} was unusable (${(error as Error).message}); it was moved to ${file}.corrupt and is being rebuilt`;
      for (const suffix of ['-wal', '-shm']) rmSync(file + suffix, { force: true });
      try {
        renameSync(file, `${file}.corrupt`);
      } catch {
        rmSync(file, { force: true });
      }
    }
  }
}

/** WAL the indexer leaves on disk when it goes idle (between checkpoints it may reach 64 MB). */
export const IDLE_WAL_BYTES = 4 * 1024 * 1024;

/**
 * When the indexer goes idle with a large WAL: checkpoints it and truncates the file, so the
 * index does not keep 64 MB of WAL next to it. Never waits: if a reader holds the WAL, the
 * next idle moment tries again. Returns true when the WAL is now empty.
 */
export function trimWal(db: Db, file: string): boolean {
  let size: number;
  try {
    size = statSync(`${file}-wal`).size;
  } catch {
    return false;
  }
  if (size <= IDLE_WAL_BYTES) return false;
  db.pragma('busy_timeout = 0');
  try {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    return result?.busy === 0;
  } finally {
    db.pragma('busy_timeout = 5000');
  }
}

/** A read-only connection for searches. */
export function openReader(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  configure(db, true);
  return db;
}

export interface StoredFile extends FileStat {
  id: number;
  path: string;
  hash: string | null;
  skipReason: SkipReason | null;
}

export function readStoredFiles(db: Db): Map<string, StoredFile> {
  const rows = db.prepare('SELECT id, path, hash, size, mtime_ms AS mtimeMs, ino, skip_reason AS skipReason FROM files').all() as StoredFile[];
  return new Map(rows.map((row) => [row.path, row]));
}

export function readStoredDirs(db: Db): Map<string, string> {
  const rows = db.prepare('SELECT path, hash FROM dirs').all() as Array<{ path: string; hash: string }>;
  return new Map(rows.map((row) => [row.path, row.hash]));
}

export const getMeta = (db: Db, key: string): string | undefined => db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

export function vectorTableExists(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'vectors'").get() !== undefined;
}

export function dropVectors(db: Db): void {
  db.exec('DROP TABLE IF EXISTS vectors');
  db.exec('UPDATE chunks SET embedded = 0 WHERE embedded != 0');
  db.prepare("DELETE FROM meta WHERE key IN ('embed_model', 'embed_dimensions')").run();
}

/** Creates the vector table for a model, dropping vectors of any other model. True when it did. */
export function ensureVectorTable(db: Db, modelId: string, dimensions: number): boolean {
  if (getMeta(db, 'embed_model') === modelId && getMeta(db, 'embed_dimensions') === String(dimensions) && vectorTableExists(db)) return false;
  dropVectors(db);
  db.exec(`CREATE VIRTUAL TABLE vectors USING vec0(embedding float[${dimensions}] distance_metric=cosine)`);
  setMeta(db, 'embed_model', modelId);
  setMeta(db, 'embed_dimensions', String(dimensions));
  return true;
}

/** One file's outcome for `IndexWriter.writeBatch`; `known`: the database may hold rows for it. */
export interface BatchItem {
  path: string;
  result: ProcessResult;
  known: boolean;
}

/** Row counts that `caret/index/status` reports (what `countRows` would answer). */
export interface IndexCounts {
  /** Indexed files (not skipped). */
  files: number;
  chunks: number;
  symbols: number;
  /** Files the second pass still owes something. */
  pending: number;
  /** Chunks with a vector. */
  embedded: number;
}

/**
 * Counts the rows from scratch: once when the indexer opens a database, and in tests. Every
 * count reads an index, never the chunk table itself (its rows hold the chunk text).
 */
export function countRows(db: Db): IndexCounts {
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const chunks = count('SELECT count(*) FROM chunks');
  return {
    files: count('SELECT count(*) FROM files WHERE skip_reason IS NULL'),
    chunks,
    symbols: count('SELECT count(*) FROM symbols'),
    pending: count('SELECT count(*) FROM files WHERE pending > 0'),
    embedded: chunks - count('SELECT count(*) FROM chunks WHERE embedded = 0'),
  };
}

interface FileRow {
  id: number;
  pending: SecondPass;
  /** 1 when the row is an indexed file, 0 when it records a skip. */
  indexed: 0 | 1;
}

/**
 * Prepared statements for the indexer's writes (prepared once: preparing costs more than most
 * writes). It also keeps the row counts up to date as it writes, so that status never has to
 * count rows: `counts` is what the last committed transaction left.
 */
export class IndexWriter {
  private readonly statements;
  private deleteVector: Database.Statement | undefined;
  /** Counts including the writes of the transaction in progress. */
  private live: IndexCounts;
  /** Counts as of the last commit (what readers see). */
  private committed: IndexCounts;
  private depth = 0;

  constructor(readonly db: Db) {
    this.statements = {
      fileRow: db.prepare('SELECT id, pending, skip_reason IS NULL AS indexed FROM files WHERE path = ?'),
      pendingChunks: db.prepare('SELECT c.id, c.content FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.id = ? AND f.pending = 1'),
      markDone: db.prepare('UPDATE files SET pending = 0 WHERE id = ? AND pending != 0'),
      // A new file and a known one take separate plain statements, not one upsert: an upsert opens
      // a statement savepoint, and every savepoint makes FTS5 flush the words it holds in memory
      // as a new segment (then merge the segments). With the upsert, a batch of 96 files wrote
      // 96 tiny segments instead of one, and the lexical pass spent more than half its SQLite
      // time flushing and merging them.
      insertFile: db.prepare('INSERT INTO files(path, hash, size, mtime_ms, ino, language, skip_reason, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      updateFile: db.prepare('UPDATE files SET hash = ?, size = ?, mtime_ms = ?, ino = ?, language = ?, skip_reason = ?, pending = ? WHERE id = ?'),
      updateStat: db.prepare('UPDATE files SET size = ?, mtime_ms = ?, ino = ? WHERE path = ?'),
      chunkRows: db.prepare('SELECT id, content, embedded FROM chunks WHERE file_id = ?'),
      deleteChunks: db.prepare('DELETE FROM chunks WHERE file_id = ?'),
      deleteWords: db.prepare('DELETE FROM fts_words WHERE rowid = ?'),
      deleteGrams: db.prepare("INSERT INTO fts_grams(fts_grams, rowid, content) VALUES ('delete', ?, ?)"),
      deleteSymbols: db.prepare('DELETE FROM symbols WHERE file_id = ?'),
      deleteFile: db.prepare('DELETE FROM files WHERE id = ?'),
      insertChunk: db.prepare(
        'INSERT INTO chunks(file_id, chunk_id, start_line, end_line, container, defines, content) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertWords: db.prepare('INSERT INTO fts_words(rowid, words) VALUES (?, ?)'),
      insertGrams: db.prepare('INSERT INTO fts_grams(rowid, content) VALUES (?, ?)'),
      insertSymbol: db.prepare(
        'INSERT INTO symbols(file_id, name, name_lower, kind, start_line, end_line, name_line, name_character, container) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      clearDirs: db.prepare('DELETE FROM dirs'),
      insertDir: db.prepare('INSERT INTO dirs(path, hash) VALUES (?, ?)'),
      markEmbedded: db.prepare('UPDATE chunks SET embedded = 1 WHERE id = ? AND embedded = 0'),
    };
    this.live = countRows(db);
    this.committed = { ...this.live };
    this.vectorsChanged();
  }

  /** The row counts as of the last commit. */
  get counts(): IndexCounts {
    return { ...(this.db.inTransaction ? this.committed : this.live) };
  }

  /**
   * Wraps `fn` in a transaction (a savepoint when nested), as `db.transaction` does, keeping the
   * counts right: a transaction that rolls back takes its count changes with it. Every write
   * through this writer must run inside one.
   */
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    const run = this.db.transaction(fn);
    return (...args: A) => {
      const before = { ...this.live };
      this.depth++;
      try {
        run(...args);
      } catch (error) {
        this.live = before;
        throw error;
      } finally {
        this.depth--;
      }
      if (this.depth === 0) this.committed = { ...this.live };
    };
  }

  /** Call after the vector table was created or dropped (dropping clears every chunk's mark). */
  vectorsChanged(): void {
    this.deleteVector = vectorTableExists(this.db) ? this.db.prepare('DELETE FROM vectors WHERE rowid = ?') : undefined;
    const unembedded = this.db.prepare('SELECT count(*) FROM chunks WHERE embedded = 0').pluck().get() as number;
    this.live.embedded = this.committed.embedded = this.live.chunks - unembedded;
  }

  /** Marks a chunk as having a vector. */
  markEmbedded(chunkRowId: number): void {
    this.live.embedded += this.statements.markEmbedded.run(chunkRowId).changes;
  }

  private existing(path: string): FileRow | undefined {
    return this.statements.fileRow.get(path) as FileRow | undefined;
  }

  private clearFileRows(file: FileRow): void {
    const s = this.statements;
    const fileId = file.id;
    const vectors = this.deleteVector;
    // A file the second pass has not reached has no trigram rows; deleting absent rows from an
    // external-content FTS5 table would corrupt it.
    const grams = file.pending === SecondPass.Done;
    let embedded = 0;
    for (const { id, content, embedded: hasVector } of s.chunkRows.all(fileId) as Array<{ id: number; content: string; embedded: number }>) {
      s.deleteWords.run(id);
      if (grams) s.deleteGrams.run(id, content);
      vectors?.run(BigInt(id));
      embedded += hasVector;
    }
    const live = this.live;
    live.embedded -= embedded;
    live.chunks -= s.deleteChunks.run(fileId).changes;
    live.symbols -= s.deleteSymbols.run(fileId).changes;
  }

  /** Writes a file's row (see `insertFile`); returns its id. */
  private putFile(existing: FileRow | undefined, path: string, hash: string | null, stat: FileStat, language: string | null, reason: SkipReason | null, pending: SecondPass): number {
    const s = this.statements;
    if (existing === undefined) return Number(s.insertFile.run(path, hash, stat.size, stat.mtimeMs, stat.ino, language, reason, pending).lastInsertRowid);
    s.updateFile.run(hash, stat.size, stat.mtimeMs, stat.ino, language, reason, pending, existing.id);
    return existing.id;
  }

  /** Counts a file row going from `before` (absent when new) to indexed or skipped, and what it owes. */
  private countFile(before: FileRow | undefined, indexed: boolean, pending: SecondPass): void {
    const live = this.live;
    live.files += (indexed ? 1 : 0) - (before?.indexed ?? 0);
    live.pending += (pending !== SecondPass.Done ? 1 : 0) - (before && before.pending !== SecondPass.Done ? 1 : 0);
  }

  /**
   * Replaces everything stored for one file. Call inside a transaction. `pending`: what the
   * second pass still owes it (its trigram rows are written only once that is nothing).
   */
  writeFile(
    path: string,
    stat: FileStat,
    hash: string,
    language: string,
    chunks: readonly IndexedChunk[],
    symbols: readonly SymbolDefinition[],
    pending: SecondPass = SecondPass.Done,
  ): void {
    const s = this.statements;
    const existing = this.existing(path);
    if (existing !== undefined) this.clearFileRows(existing);
    const fileId = this.putFile(existing, path, hash, stat, language, null, pending);
    this.countFile(existing, true, pending);
    this.live.chunks += chunks.length;
    this.live.symbols += symbols.length;
    const grams = pending === SecondPass.Done;
    for (const chunk of chunks) {
      const rowid = Number(
        s.insertChunk.run(fileId, chunk.id, chunk.startLine, chunk.endLine, chunk.container.join('.'), chunk.defines.join(' '), chunk.content).lastInsertRowid,
      );
      s.insertWords.run(rowid, chunk.words);
      if (grams) s.insertGrams.run(rowid, chunk.content);
    }
    for (const symbol of symbols) {
      s.insertSymbol.run(fileId, symbol.name, symbol.name.toLowerCase(), symbol.kind, symbol.startLine, symbol.endLine, symbol.nameLine, symbol.nameCharacter, symbol.container);
    }
  }

  /**
   * Writes a batch of files' outcomes. Call inside a transaction. The rows of known files are
   * all deleted before anything is inserted: FTS5 flushes the words it holds in memory before
   * every delete, so deletes between inserts wrote one segment per file (then merged them);
   * this way a batch flushes once, at commit.
   */
  writeBatch(items: readonly BatchItem[]): void {
    for (const { path, result, known } of items) {
      if (!known || result.kind === 'unchanged') continue;
      const existing = this.existing(path);
      if (existing !== undefined) this.clearFileRows(existing);
    }
    for (const { path, result } of items) {
      switch (result.kind) {
        case 'gone':
          this.removeFile(path);
          break;
        case 'skipped':
          this.writeSkipped(path, result, result.reason, result.hash ?? null);
          break;
        case 'unchanged':
          this.updateStat(path, result);
          break;
        case 'indexed':
          this.writeFile(path, result, result.hash, result.language, result.chunks, result.symbols, result.pending);
          break;
      }
    }
  }

  /** Records a file the index keeps no content for (binary, unreadable, grown too large). */
  writeSkipped(path: string, stat: FileStat, reason: SkipReason, hash: string | null): void {
    const existing = this.existing(path);
    if (existing !== undefined) this.clearFileRows(existing);
    this.putFile(existing, path, hash, stat, null, reason, SecondPass.Done);
    this.countFile(existing, false, SecondPass.Done);
  }

  /** The content is unchanged (a touch, a checkout of the same bytes): refresh the stat only. */
  updateStat(path: string, stat: FileStat): void {
    this.statements.updateStat.run(stat.size, stat.mtimeMs, stat.ino, path);
  }

  removeFile(path: string): void {
    const s = this.statements;
    const existing = this.existing(path);
    if (existing === undefined) return;
    this.clearFileRows(existing);
    s.deleteFile.run(existing.id);
    this.countFile(existing, false, SecondPass.Done);
  }

  /** The second pass for a file that needs no parse: trigram rows for the chunks it has. */
  addTrigrams(fileId: number): void {
    const s = this.statements;
    for (const { id, content } of s.pendingChunks.all(fileId) as Array<{ id: number; content: string }>) s.insertGrams.run(id, content);
    this.live.pending -= s.markDone.run(fileId).changes;
  }

  writeDirs(dirs: ReadonlyMap<string, string>): void {
    this.statements.clearDirs.run();
    for (const [path, hash] of dirs) this.statements.insertDir.run(path, hash);
  }
}
