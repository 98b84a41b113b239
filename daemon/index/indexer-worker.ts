// The indexer thread of one workspace: owns the writable database, the parse workers and the
// file watcher, and runs syncs one at a time. The daemon's main thread only sends it requests
// and reads the database; nothing here can delay a keystroke-driven request.
import { parentPort, workerData } from 'node:worker_threads';
import { ChangeQueue, type ChangeBatch } from './change-queue.js';
import { DirWatcher } from './dir-watcher.js';
import { EmbeddingCache } from './embedding-cache.js';
import { IgnoreRules } from './ignore-rules.js';
import { ParsePool } from './parse-pool.js';
import { RootMissingError } from './scan.js';
import { type Db, ensureVectorTable, getMeta, IndexWriter, openIndexDatabase, trimWal } from './store.js';
import { fullSync, pathSync, refreshTree, type SkipSummary, type SyncContext, secondPass } from './sync.js';
import { lowerThisThreadPriority } from './thread-priority.js';
import type { FromIndexer, IndexerOptions, IndexProgress, IndexState, ToIndexer } from './worker-protocol.js';

lowerThisThreadPriority();

const options = workerData as IndexerOptions;
const port = parentPort!;
const post = (message: FromIndexer) => port.postMessage(message);
const log = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) =>
  post({ type: 'log', level, message, ...(fields && { fields }) });

class StoppedError extends Error {
  constructor() {
    super('indexer stopped');
  }
}

/** The client cancelled the indexing in progress: the pass stops; the next resync resumes it. */
class CancelledError extends Error {
  constructor() {
    super('indexing cancelled');
  }
}

let stopping = false;
let cancelled = false;
let embed = options.embed;
const ignore = new IgnoreRules(options.root);
const pool = new ParsePool({ size: options.parseWorkers });
let db: Db;
let writer: IndexWriter;
let cache: EmbeddingCache | undefined;
let generation = 0;

try {
  const opened = openIndexDatabase(options.dbFile, options.root);
  db = opened.db;
  writer = new IndexWriter(db);
  const skips = getMeta(db, 'scan_skips');
  post({
    type: 'opened',
    ...(opened.rebuilt && { rebuilt: opened.rebuilt }),
    counts: writer.counts,
    rootHash: getMeta(db, 'root_hash') ?? '',
    ...(skips && { skips: JSON.parse(skips) as SkipSummary }),
  });
} catch (error) {
  const counts = { files: 0, chunks: 0, symbols: 0, pending: 0, embedded: 0 };
  post({ type: 'state', state: 'error', error: `cannot open the index database ${options.dbFile}: ${(error as Error).message}`, counts });
  throw error;
}

let state: IndexState = 'scanning';
const setState = (next: IndexState, progress?: IndexProgress, error?: string) => {
  state = next;
  post({ type: 'state', state, ...(progress && { progress }), ...(error && { error }), counts: writer.counts });
};

const context: SyncContext = {
  root: options.root,
  maxFileBytes: options.maxFileBytes,
  pool,
  writer: writer!,
  ignore,
  shouldStop: () => (stopping ? new StoppedError() : cancelled ? new CancelledError() : undefined),
  shouldYield: () => pending !== undefined,
  yieldRequested: () => (pending ? Promise.resolve() : new Promise<void>((resolve) => yieldWaiters.push(resolve))),
  onProgress: () => undefined,
};

// ---- sync scheduling: one at a time; requests arriving meanwhile merge into the next one.
let running = false;
let pending: { full: boolean; paths: Set<string>; reason: string; id: number } | undefined;
let treeDirty = false;
let treeTimer: NodeJS.Timeout | undefined;

/** The second pass waiting to hear that a sync was requested. */
let yieldWaiters: Array<() => void> = [];

function requestSync(batch: ChangeBatch, id = 0): void {
  const wake = yieldWaiters;
  yieldWaiters = [];
  wake.forEach((resolve) => resolve());
  if (!pending) pending = { full: batch.full, paths: new Set(batch.paths), reason: batch.reason, id };
  else {
    pending.full ||= batch.full;
    pending.id = Math.max(pending.id, id);
    for (const path of batch.paths) pending.paths.add(path);
  }
  if (!running) void runSyncs();
}

async function runSyncs(): Promise<void> {
  running = true;
  try {
    while (pending && !stopping) {
      const job = pending;
      pending = undefined;
      cancelled = false;
      const startedAt = Date.now();
      context.onProgress = (progress) => setState(progress.phase === 'scanning' ? 'scanning' : 'indexing', { ...progress, startedAt });
      try {
        if (job.full) {
          const { stats, skips } = await fullSync(context);
          treeDirty = false;
          // A watcher that failed is replaced; the sync its 'ready' triggers catches what
          // changed while none was watching.
          if (options.watch && !watcher && !stopping) startWatcher(true);
          generation++;
          post({ type: 'synced', stats, skips, generation, counts: writer.counts });
          log('info', 'index synced', { root: options.root, reason: job.reason, ...stats });
        } else {
          const stats = await pathSync(context, [...job.paths]);
          log('debug', 'index paths synced', { root: options.root, paths: [...job.paths].slice(0, 20), ...stats });
          generation++;
          post({ type: 'synced', stats, generation, counts: writer.counts });
          if (stats.changed > 0) scheduleTreeRefresh();
        }
        // Every file is searchable now; trigram rows, syntax-aware chunks and symbols come
        // next, paused whenever a sync (a save) waits, so a save never queues behind parsing.
        if (!pending) {
          const secondStartedAt = Date.now();
          const syntax = await secondPass(context, (progress) => setState('indexing', { ...progress, startedAt: secondStartedAt }));
          if (syntax.hashChanged > 0) scheduleTreeRefresh();
        }
        if (!pending) {
          try {
            await embedPass();
          } catch (error) {
            if (stopping) break;
            post({ type: 'warning', message: `embeddings: ${(error as Error).message}; semantic search covers only what was embedded so far` });
          }
        }
        if (!pending) {
          trimIdleWal();
          setState('ready');
        }
      } catch (error) {
        if (error instanceof StoppedError || stopping) break;
        if (error instanceof CancelledError) {
          cancelled = false;
          post({ type: 'warning', message: 'indexing was cancelled; the next resync (periodic, or caret/index/reindex) finishes it' });
          log('info', 'indexing cancelled', { root: options.root });
          if (!pending) setState('ready');
          post({ type: 'done', id: job.id, counts: writer.counts });
          continue;
        }
        const message = error instanceof RootMissingError ? error.message : `indexing failed: ${(error as Error).message}`;
        log('error', 'index sync failed', { root: options.root, error: (error as Error).message });
        setState('error', undefined, message);
      }
      post({ type: 'done', id: job.id, counts: writer.counts });
    }
  } finally {
    running = false;
  }
}

function scheduleTreeRefresh(): void {
  treeDirty = true;
  clearTimeout(treeTimer);
  treeTimer = setTimeout(() => {
    if (running || !treeDirty || stopping) return scheduleTreeRefresh();
    treeDirty = false;
    try {
      refreshTree(context);
      post({ type: 'synced', stats: { ...emptyStats(), rootHash: refreshRootHash() }, generation: ++generation, counts: writer.counts });
    } catch (error) {
      log('warn', 'Merkle tree refresh failed', { error: (error as Error).message });
    }
  }, 1000);
  treeTimer.unref();
}

function trimIdleWal(): void {
  try {
    trimWal(db, options.dbFile);
  } catch (error) {
    log('warn', 'WAL checkpoint failed', { error: (error as Error).message });
  }
}

const emptyStats = () => ({ full: false, scanned: 0, reread: 0, indexed: 0, unchanged: 0, removed: 0, changed: 0, visitedDirs: 0, rootHash: '', bytes: 0, durationMs: 0 });

const refreshRootHash = () => (db.prepare("SELECT value FROM meta WHERE key = 'root_hash'").pluck().get() as string | undefined) ?? '';

// ---- embeddings: vectors for chunks that have none, from the cache or from the embedder.
let nextEmbedId = 1;
const embedWaiters = new Map<number, { resolve: (vectors: Float32Array[]) => void; reject: (error: Error) => void }>();

function requestEmbeddings(texts: string[]): Promise<Float32Array[]> {
  const id = nextEmbedId++;
  return new Promise((resolve, reject) => {
    embedWaiters.set(id, { resolve, reject });
    post({ type: 'embed', id, texts });
  });
}

async function embedPass(): Promise<void> {
  if (!embed) return;
  const { modelId, dimensions, batchSize } = embed;
  if (ensureVectorTable(db, modelId, dimensions)) writer.vectorsChanged();
  cache ??= new EmbeddingCache(options.cacheFile);
  const total = db.prepare('SELECT count(*) FROM chunks WHERE embedded = 0').pluck().get() as number;
  if (total === 0) return;
  const startedAt = Date.now();
  const next = db.prepare('SELECT id, chunk_id AS chunkId, content FROM chunks WHERE embedded = 0 AND id > ? ORDER BY id LIMIT ?');
  const insertVector = db.prepare('INSERT OR REPLACE INTO vectors(rowid, embedding) VALUES (?, ?)');
  let done = 0;
  let after = 0;
  while (!stopping && !pending && embed?.modelId === modelId) {
    const rows = next.all(after, batchSize) as Array<{ id: number; chunkId: string; content: string }>;
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const vectors = new Map<number, Float32Array>();
    const missing: typeof rows = [];
    for (const row of rows) {
      const cached = cache.get(row.chunkId, modelId);
      if (cached && cached.length === dimensions) vectors.set(row.id, cached);
      else missing.push(row);
    }
    if (missing.length) {
      // Identical chunks in one batch are embedded once.
      const unique = [...new Map(missing.map((row) => [row.chunkId, row.content])).entries()];
      const computed = await requestEmbeddings(unique.map(([, content]) => content));
      const byChunk = new Map(unique.map(([chunkId], i) => [chunkId, computed[i]!]));
      cache.putMany(modelId, [...byChunk].map(([chunkId, vector]) => ({ chunkId, vector })));
      for (const row of missing) vectors.set(row.id, byChunk.get(row.chunkId)!);
    }
    // The chunk may have been replaced while the embedder ran; only live rows get vectors.
    const alive = db.prepare(`SELECT id FROM chunks WHERE id IN (${rows.map(() => '?').join(',')})`).pluck();
    const live = new Set(alive.all(...rows.map((row) => row.id)) as number[]);
    writer.transaction(() => {
      for (const [id, vector] of vectors) {
        if (!live.has(id) || vector.length !== dimensions) continue;
        insertVector.run(BigInt(id), Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
        writer.markEmbedded(id);
      }
    })();
    done += rows.length;
    setState('indexing', { phase: 'embedding', done, total, bytes: 0, startedAt });
  }
}

// ---- the watcher: events become paths in a debounced queue.
const queue = new ChangeQueue({
  debounceMs: options.debounceMs,
  maxWaitMs: Math.max(options.debounceMs * 10, 1000),
  burstLimit: options.burstLimit,
  flush: requestSync,
});
let watcher: DirWatcher | undefined;

function startWatcher(catchUp = false): void {
  const onPath = (rel: string) => {
    if (rel === '') {
      queue.requestFull('the workspace root changed');
      return;
    }
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (name === '.gitignore' || name === '.caretignore') {
      ignore.reset();
      queue.requestFull(`${rel} changed`);
      return;
    }
    queue.push(rel);
  };
  const failed = (error: Error) => {
    if (watcher === current) watcher = undefined;
    // inotify limits, a vanished root...: the periodic resync keeps the index right meanwhile,
    // and the next full resync starts a new watcher.
    post({ type: 'warning', message: `file watcher: ${error.message}; changes are picked up by the periodic resync instead` });
  };
  const current: DirWatcher = new DirWatcher({
    root: options.root,
    isIgnored: (rel, isDirectory) => {
      try {
        return ignore.isIgnoredDeep(rel, isDirectory);
      } catch {
        return false;
      }
    },
    onPath,
    onError: failed,
  });
  watcher = current;
  // What changed while a failed watcher was down is found by one resync (it re-reads only files
  // whose stat changed). The first watcher starts with the first scan, which needs no catch-up.
  if (catchUp) queue.requestFull('file watcher restarted');
}

let resyncTimer: NodeJS.Timeout | undefined;
if (options.resyncIntervalMs > 0) {
  resyncTimer = setInterval(() => {
    if (!running) requestSync({ full: true, paths: [], reason: 'periodic resync' });
  }, options.resyncIntervalMs);
}

port.on('message', (message: ToIndexer) => {
  switch (message.type) {
    case 'sync':
      requestSync({ full: message.full, paths: message.full ? [] : message.paths ?? [], reason: message.reason }, message.id);
      break;
    case 'embedded': {
      const waiter = embedWaiters.get(message.id);
      embedWaiters.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.vectors ?? []);
      break;
    }
    case 'configure-embed':
      embed = message.embed ?? undefined;
      if (!running) requestSync({ full: false, paths: [], reason: 'embedding settings changed' });
      break;
    case 'cancel':
      // Only work in progress is cancelled; a request arriving later runs.
      if (running) cancelled = true;
      break;
    case 'fault':
      // Fault injection for tests: the watcher fails as it does on a real error, and stops.
      watcher?.fail(new Error(message.message));
      break;
    case 'stop':
      void stop();
      break;
  }
});

async function stop(): Promise<void> {
  stopping = true;
  clearInterval(resyncTimer);
  clearTimeout(treeTimer);
  queue.dispose();
  for (const waiter of embedWaiters.values()) waiter.reject(new StoppedError());
  watcher?.close();
  await pool.close();
  // Let a sync in progress notice and unwind before the database closes.
  while (running) await new Promise((resolve) => setTimeout(resolve, 5));
  try {
    db.close();
  } catch {
    // Already closed.
  }
  cache?.close();
  post({ type: 'stopped' });
  port.close();
}

if (options.watch) startWatcher();
