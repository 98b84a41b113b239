// One synchronisation of the database with the workspace: scan, compare with the stat cache,
// re-read only files whose stat changed (parse workers hash and chunk them), write each batch of
// files in one transaction, remove what disappeared, then rebuild the Merkle tree. Runs in the
// indexer thread. A targeted sync (paths from the watcher) does the same for those paths alone.
// Both make files searchable through the lexical pass (line windows and identifier tokens, no
// parse); the second pass (secondPass) then adds trigram rows and re-chunks files along their
// syntax trees when nothing more urgent waits.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { IgnoreRules } from './ignore-rules.js';
import { buildMerkleTree, diffMerkleTrees, type MerkleTree } from './merkle.js';
import type { ParsePool } from './parse-pool.js';
import { type IndexPass, processFile, type ProcessRequest } from './process-file.js';
import { type FileStat, scanWorkspace, type SkipReason } from './scan.js';
import { type BatchItem, getMeta, type IndexWriter, readStoredDirs, readStoredFiles, SecondPass, setMeta, type StoredFile } from './store.js';

export interface SyncProgress {
  phase: 'scanning' | 'indexing' | 'finishing' | 'syntax';
  done: number;
  total: number;
  bytes: number;
}

export interface SyncStats {
  full: boolean;
  scanned: number;
  /** Files whose stat changed and that were read again. */
  reread: number;
  indexed: number;
  unchanged: number;
  removed: number;
  /** Files the Merkle comparison found added, changed or removed. */
  changed: number;
  visitedDirs: number;
  rootHash: string;
  bytes: number;
  durationMs: number;
}

export interface SyncContext {
  root: string;
  maxFileBytes: number;
  pool: ParsePool;
  writer: IndexWriter;
  ignore: IgnoreRules;
  shouldStop: () => Error | undefined;
  /** True when more urgent work waits: the syntax pass then pauses (it resumes later). */
  shouldYield?: () => boolean;
  /** Resolves when more urgent work arrives (so the second pass need not finish what it parses). */
  yieldRequested?: () => Promise<void>;
  onProgress: (progress: SyncProgress) => void;
}

const statChanged = (stored: StoredFile, now: FileStat) => stored.size !== now.size || stored.mtimeMs !== now.mtimeMs || stored.ino !== now.ino;

/** How many files are read and chunked ahead of the writer. */
const IN_FLIGHT = 128;
/** Bytes of files read and chunked ahead of the writer (their results wait in memory). */
const IN_FLIGHT_BYTES = 12 * 1024 * 1024;
/**
 * Files per write transaction (each transaction holds whole files only). Small enough that the
 * parse workers, fed from this same thread, never run dry while a batch is written.
 */
const BATCH_FILES = 96;
/** Bytes of content per write transaction, so a batch of large files commits early. */
const BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Parse threads the second pass runs on. One: tree-sitter holds 50-90 MB per thread, and two
 * took a 29,000-file tree's peak RSS to 600 MB; the pass is background work meant to leave the
 * editor a core.
 */
export const SYNTAX_WORKERS = 1;

/** Lexical work this small is done in the indexer thread itself (see processPaths). */
export const INLINE_FILES = 4;

interface WorkItem {
  path: string;
  /** The hash the database holds for the file. */
  knownHash?: string | null;
  /** Its size when last seen, for the in-flight memory budget. */
  size?: number;
}

/** Reads, chunks and writes `paths`, batching the writes. Returns counts. */
async function processPaths(
  context: SyncContext,
  paths: readonly WorkItem[],
  progress: SyncProgress,
  pass: IndexPass = 'lexical',
): Promise<{ indexed: number; unchanged: number; bytes: number; hashChanged: number; yielded: boolean }> {
  const { writer, pool } = context;
  const counts = { indexed: 0, unchanged: 0, bytes: 0, hashChanged: 0, yielded: false };
  let batchBytes = 0;
  let batch: BatchItem[] = [];
  const writeBatch = writer.transaction((items: BatchItem[]) => writer.writeBatch(items));
  const flush = () => {
    if (batch.length) writeBatch(batch);
    batch = [];
    batchBytes = 0;
  };
  // A save (a few files, lexical pass) is read and tokenised right here: a parse thread would
  // first have to start (they stop when idle) and the file would cross two message hops.
  const inline = pass === 'lexical' && paths.length <= INLINE_FILES;
  let next = 0;
  let lastReport = 0;
  let inFlight = 0;
  let inFlightBytes = 0;
  let waiters: Array<() => void> = [];
  /** Set when the second pass yields: answers still in flight are dropped (the files stay pending). */
  let abandoned = false;
  const worker = async () => {
    while (next < paths.length && !abandoned) {
      const stop = context.shouldStop();
      if (stop) throw stop;
      if (pass === 'syntax' && context.shouldYield?.()) {
        counts.yielded = true;
        return;
      }
      const expected = Math.min(paths[next]!.size ?? 16 * 1024, context.maxFileBytes);
      if (inFlight > 0 && inFlightBytes + expected > IN_FLIGHT_BYTES) {
        await new Promise<void>((resolve) => waiters.push(resolve));
        continue;
      }
      const item = paths[next++]!;
      inFlight++;
      inFlightBytes += expected;
      const request: ProcessRequest = {
        abs: join(context.root, item.path),
        rel: item.path,
        // The syntax pass re-chunks content it has seen: it must not stop at "unchanged".
        ...(item.knownHash && pass === 'lexical' ? { knownHash: item.knownHash } : {}),
        maxFileBytes: context.maxFileBytes,
        pass,
      };
      const result = await (inline ? processFile(request) : pool.process(request))
        .finally(() => {
          inFlight--;
          inFlightBytes -= expected;
          const wake = waiters;
          waiters = [];
          wake.forEach((resolve) => resolve());
        });
      if (abandoned) return;
      if (result.kind === 'indexed') {
        counts.indexed++;
        counts.bytes += result.size;
        batchBytes += result.size;
        if (result.hash !== item.knownHash) counts.hashChanged++;
      } else if (result.kind === 'unchanged') counts.unchanged++;
      else counts.hashChanged++;
      batch.push({ path: item.path, result, known: item.knownHash !== undefined });
      if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) flush();
      progress.done++;
      progress.bytes = counts.bytes;
      const now = Date.now();
      if (now - lastReport > 100) {
        lastReport = now;
        context.onProgress(progress);
      }
    }
  };
  try {
    // The second pass keeps few files in flight: it must yield quickly when a save arrives, and
    // whatever it has in flight is parsed before it can.
    if (!inline) pool.setLimit(pass === 'syntax' ? SYNTAX_WORKERS : pool.size);
    const lanes = pass === 'syntax' ? SYNTAX_WORKERS + 1 : IN_FLIGHT;
    const all = Promise.all(Array.from({ length: Math.min(lanes, paths.length) }, worker));
    if (pass === 'syntax' && context.yieldRequested) {
      // A save arrived: do not wait for a large file's parse to finish before indexing it.
      const yielded = context.yieldRequested().then(() => 'yield' as const);
      if ((await Promise.race([all, yielded])) === 'yield') {
        abandoned = true;
        counts.yielded = true;
        all.catch(() => undefined);
      }
    } else await all;
  } finally {
    // Whatever finished is committed, even when the sync stops early: those files are done.
    flush();
  }
  return counts;
}

function storedTree(files: Map<string, StoredFile>, dirs: Map<string, string>, rootHash: string | undefined): MerkleTree {
  const hashes = new Map<string, string>();
  for (const [path, file] of files) hashes.set(path, file.hash ?? '');
  return { files: hashes, dirs, rootHash: rootHash ?? '' };
}

export interface SkipSummary {
  counts: Partial<Record<SkipReason, number>>;
  examples: Partial<Record<SkipReason, string[]>>;
}

/** Writes the Merkle tree of what the database now holds; returns it and its diff from before. */
function commitTree(context: SyncContext, before: MerkleTree): { tree: MerkleTree; changed: number; visitedDirs: number } {
  const files = readStoredFiles(context.writer.db);
  const hashes = new Map<string, string>();
  for (const [path, file] of files) hashes.set(path, file.hash ?? '');
  const tree = buildMerkleTree(hashes);
  const diff = diffMerkleTrees(before, tree);
  context.writer.transaction(() => {
    context.writer.writeDirs(tree.dirs);
    setMeta(context.writer.db, 'root_hash', tree.rootHash);
  })();
  return { tree, changed: diff.added.length + diff.changed.length + diff.removed.length, visitedDirs: diff.visitedDirs };
}

export async function fullSync(context: SyncContext): Promise<{ stats: SyncStats; skips: SkipSummary }> {
  const started = Date.now();
  const progress: SyncProgress = { phase: 'scanning', done: 0, total: 0, bytes: 0 };
  context.onProgress(progress);
  const db = context.writer.db;
  const stored = readStoredFiles(db);
  // A cold index reads every file: the parse threads start while the scan runs.
  if (stored.size === 0) context.pool.warm();
  const before = storedTree(stored, readStoredDirs(db), getMeta(db, 'root_hash'));
  const scan = scanWorkspace(context.root, { maxFileBytes: context.maxFileBytes, ignore: context.ignore, shouldStop: context.shouldStop });

  const work: WorkItem[] = [];
  for (const [path, stat] of scan.files) {
    const old = stored.get(path);
    if (!old || statChanged(old, stat)) work.push({ path, knownHash: old?.hash, size: stat.size });
  }
  const removed = [...stored.keys()].filter((path) => !scan.files.has(path));
  if (removed.length) context.writer.transaction(() => removed.forEach((path) => context.writer.removeFile(path)))();

  progress.phase = 'indexing';
  progress.total = work.length;
  context.onProgress(progress);
  const counts = await processPaths(context, work, progress);

  progress.phase = 'finishing';
  context.onProgress(progress);
  // Nothing changed: the stored tree is still the truth, and rebuilding it would cost a pass
  // over every file row for nothing.
  const unchanged = removed.length === 0 && counts.indexed === 0 && before.rootHash !== '' && work.every((item) => item.knownHash);
  const { tree, changed, visitedDirs } = unchanged ? { tree: before, changed: 0, visitedDirs: 0 } : commitTree(context, before);

  // Skips found while reading files (binary, unreadable, grown too large) live in the files table.
  const skips: SkipSummary = { counts: Object.fromEntries(scan.skipped), examples: Object.fromEntries(scan.examples) };
  const skippedRows = db.prepare('SELECT path, skip_reason AS reason FROM files WHERE skip_reason IS NOT NULL').all() as Array<{ path: string; reason: SkipReason }>;
  for (const { path, reason } of skippedRows) {
    skips.counts[reason] = (skips.counts[reason] ?? 0) + 1;
    const list = (skips.examples[reason] ??= []);
    if (list.length < 10) list.push(path);
  }
  setMeta(db, 'scan_skips', JSON.stringify(skips));
  setMeta(db, 'last_full_sync', String(Date.now()));
  return {
    stats: {
      full: true,
      scanned: scan.files.size,
      reread: work.length,
      indexed: counts.indexed,
      unchanged: counts.unchanged,
      removed: removed.length,
      changed,
      visitedDirs,
      rootHash: tree.rootHash,
      bytes: counts.bytes,
      durationMs: Date.now() - started,
    },
    skips,
  };
}

/**
 * Brings the given paths (files or directories, relative) up to date: what exists is read if its
 * stat changed, what is gone or now ignored is removed. Directories that appeared get a full
 * sync instead (the caller decides), so this handles files and deletions.
 */
export async function pathSync(context: SyncContext, paths: readonly string[]): Promise<SyncStats> {
  const started = Date.now();
  const db = context.writer.db;
  const progress: SyncProgress = { phase: 'indexing', done: 0, total: 0, bytes: 0 };
  const work: WorkItem[] = [];
  const toRemove = new Set<string>();
  const lookup = db.prepare('SELECT id, path, hash, size, mtime_ms AS mtimeMs, ino, skip_reason AS skipReason FROM files WHERE path = ?');
  const under = db.prepare("SELECT path FROM files WHERE path >= ? AND path < ?").pluck();
  for (const path of paths) {
    const stored = lookup.get(path) as StoredFile | undefined;
    let stat;
    try {
      stat = lstatSync(join(context.root, path));
    } catch {
      stat = undefined;
    }
    if (!stat || context.ignore.isIgnoredDeep(path, stat.isDirectory())) {
      if (stored) toRemove.add(path);
      // A directory that went away takes its files with it.
      for (const child of under.all(`${path}/`, `${path}0`) as string[]) toRemove.add(child);
      continue;
    }
    if (!stat.isFile()) continue;
    if (stat.size > context.maxFileBytes) {
      context.writer.transaction(() => context.writer.writeSkipped(path, { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino }, 'too-large', null))();
      continue;
    }
    if (!stored || statChanged(stored, stat)) work.push({ path, knownHash: stored?.hash, size: stat.size });
  }
  if (toRemove.size) context.writer.transaction(() => toRemove.forEach((path) => context.writer.removeFile(path)))();
  progress.total = work.length;
  const counts = await processPaths(context, work, progress);
  return {
    full: false,
    scanned: paths.length,
    reread: work.length,
    indexed: counts.indexed,
    unchanged: counts.unchanged,
    removed: toRemove.size,
    changed: counts.indexed + toRemove.size,
    visitedDirs: 0,
    rootHash: getMeta(db, 'root_hash') ?? '',
    bytes: counts.bytes,
    durationMs: Date.now() - started,
  };
}

/**
 * The second pass, for files the lexical pass made searchable: trigram rows for substring search
 * (written here because they are most of the first pass's write cost), and for files with a
 * grammar, syntax-aware chunks and symbols in place of line windows. A few files at a time, each
 * file's rows replaced in one transaction. Stops early (`yielded`) when `shouldYield` says a sync
 * waits; what it did not reach stays pending in the database, so the next pass, or the next
 * daemon after a crash, resumes there.
 */
export async function secondPass(
  context: SyncContext,
  onProgress: (progress: SyncProgress) => void,
): Promise<{ done: number; hashChanged: number; yielded: boolean }> {
  const { writer } = context;
  const db = writer.db;
  const total = db.prepare('SELECT count(*) FROM files WHERE pending > 0').pluck().get() as number;
  const result = { done: 0, hashChanged: 0, yielded: false };
  if (total === 0) return result;
  const next = db.prepare('SELECT id, path, hash AS knownHash, size, pending FROM files WHERE pending > 0 AND id > ? ORDER BY id LIMIT ?');
  const progress: SyncProgress = { phase: 'syntax', done: 0, total, bytes: 0 };
  const reporting: SyncContext = { ...context, onProgress };
  const addTrigrams = writer.transaction((ids: number[]) => ids.forEach((id) => writer.addTrigrams(id)));
  onProgress(progress);
  let after = 0;
  for (;;) {
    const stop = context.shouldStop();
    if (stop) throw stop;
    if (context.shouldYield?.()) {
      result.yielded = true;
      break;
    }
    const rows = next.all(after, 128) as Array<{ id: number; path: string; knownHash: string | null; size: number; pending: SecondPass }>;
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const gramsOnly = rows.filter((row) => row.pending === SecondPass.Trigrams).map((row) => row.id);
    if (gramsOnly.length) {
      addTrigrams(gramsOnly);
      result.done += gramsOnly.length;
      progress.done += gramsOnly.length;
      onProgress(progress);
    }
    const parse = rows.filter((row) => row.pending === SecondPass.Parse);
    if (parse.length === 0) continue;
    const counts = await processPaths(reporting, parse, progress, 'syntax');
    result.done += counts.indexed;
    result.hashChanged += counts.hashChanged;
    if (counts.yielded) {
      result.yielded = true;
      break;
    }
  }
  return result;
}

/** Rebuilds the Merkle tree after targeted syncs (done lazily: it touches every file row). */
export function refreshTree(context: SyncContext): string {
  const db = context.writer.db;
  const before = storedTree(readStoredFiles(db), readStoredDirs(db), getMeta(db, 'root_hash'));
  return commitTree(context, before).tree.rootHash;
}
