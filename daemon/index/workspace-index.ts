// One workspace's index as the rest of the daemon sees it: a handle on the indexer thread (which
// scans, watches, parses and writes), a search thread with its own read-only connection for
// queries (`query`, `findSymbols`), and a read-only connection here for cheap lookups. Status
// asks no database: the indexer thread reports its row counts with every message after a write.
// Searches never go through the indexer thread, so they never wait behind indexing, and never
// run on the caller's thread, so a slow one never holds up a keystroke-driven request.
import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Embedder } from '../models/index.js';
import { type Db, type IndexCounts, openReader } from './store.js';
import { IndexSearcher, type SearchHit, type SearchQuery, searchSymbols, type SymbolHit } from './search.js';
import { SearchThread } from './search-thread.js';
import type { SkipSummary, SyncStats } from './sync.js';
import type { FromIndexer, IndexerOptions, IndexProgress, IndexState, ToIndexer } from './worker-protocol.js';

export interface IndexLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface IndexSettings {
  maxFileBytes: number;
  parseWorkers: number;
  watch: boolean;
  debounceMs: number;
  burstLimit: number;
  resyncIntervalSeconds: number;
  embedBatchSize: number;
}

export interface WorkspaceIndexOptions {
  root: string;
  dbFile: string;
  cacheFile: string;
  settings: IndexSettings;
  log: IndexLogger;
  embedder?: Embedder;
}

export interface IndexStatus {
  root: string;
  state: IndexState;
  files: number;
  chunks: number;
  symbols: number;
  skipped: Partial<Record<string, number>>;
  skippedExamples: Partial<Record<string, string[]>>;
  rootHash: string;
  progress?: IndexProgress;
  /** Files searchable by identifiers (line windows) that still await the second pass. */
  secondPassPending: number;
  error?: string;
  warnings: string[];
  lastSync?: SyncStats;
  database: string;
  embeddings?: { model: string; embedded: number; total: number };
}

const MAX_WARNINGS = 10;

const noRows = (): IndexCounts => ({ files: 0, chunks: 0, symbols: 0, pending: 0, embedded: 0 });

export class WorkspaceIndex extends EventEmitter<{
  state: [state: IndexState, progress: IndexProgress | undefined];
  synced: [stats: SyncStats];
  done: [id: number];
}> {
  readonly root: string;
  state: IndexState = 'scanning';
  progress: IndexProgress | undefined;
  error: string | undefined;
  readonly warnings: string[] = [];
  lastSync: SyncStats | undefined;
  private skips: SkipSummary | undefined;
  /** Row counts and root hash as of the indexer thread's last commit it reported. */
  private counts = noRows();
  private rootHash = '';
  private worker: Worker | undefined;
  private reader: Db | undefined;
  private searcher: IndexSearcher | undefined;
  private searchThread: SearchThread | undefined;
  private generation = 0;
  private requested = 0;
  private completed = 0;
  private disposed = false;
  private restarts = 0;
  private embedder: Embedder | undefined;
  private readonly embedAborts = new Set<AbortController>();

  constructor(private readonly options: WorkspaceIndexOptions) {
    super();
    this.root = options.root;
    this.embedder = options.embedder;
    this.startWorker();
  }

  private post(message: ToIndexer): void {
    this.worker?.postMessage(message);
  }

  private warn(message: string): void {
    this.options.log.warn('index warning', { root: this.root, message });
    if (!this.warnings.includes(message)) this.warnings.push(message);
    if (this.warnings.length > MAX_WARNINGS) this.warnings.shift();
  }

  private startWorker(): void {
    const { settings } = this.options;
    const workerOptions: IndexerOptions = {
      root: this.root,
      dbFile: this.options.dbFile,
      cacheFile: this.options.cacheFile,
      maxFileBytes: settings.maxFileBytes,
      parseWorkers: settings.parseWorkers,
      watch: settings.watch,
      debounceMs: settings.debounceMs,
      burstLimit: settings.burstLimit,
      resyncIntervalMs: settings.resyncIntervalSeconds * 1000,
      ...(this.embedder && { embed: { modelId: this.embedder.modelId, dimensions: this.embedder.dimensions, batchSize: settings.embedBatchSize } }),
    };
    // A young generation that holds the files in flight (12 MB of results, batches of 2 MB):
    // with 8 MB they outlived it and piled up in the old generation (an indexer heap of 200 MB
    // on a 29,000-file tree; peak RSS of the lexical pass 480 MB against 395 MB with 32 MB).
    const worker = new Worker(new URL('./indexer-worker.js', import.meta.url), { workerData: workerOptions, resourceLimits: { maxYoungGenerationSizeMb: 32 } });
    this.worker = worker;
    worker.on('message', (message: FromIndexer) => this.onMessage(message));
    // Every (re)start begins with a full resync: it is what repairs an interrupted index.
    this.post({ type: 'sync', id: ++this.requested, full: true, reason: this.restarts ? 'indexer restart' : 'start' });
    worker.on('error', (error) => {
      this.options.log.error('indexer thread failed', { root: this.root, error: error.message });
      this.error = `the indexer failed: ${error.message}`;
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.disposed) return;
      this.setState('error', undefined);
      this.error ??= `the indexer thread exited (code ${code})`;
      // Restart with a growing delay; a root that stays broken stays in "error".
      const delay = Math.min(60_000, 1000 * 2 ** this.restarts++);
      setTimeout(() => {
        if (!this.disposed) this.startWorker();
      }, delay).unref();
    });
  }

  private setState(state: IndexState, progress: IndexProgress | undefined): void {
    this.state = state;
    this.progress = progress;
    this.emit('state', state, progress);
  }

  private onMessage(message: FromIndexer): void {
    if ('counts' in message) this.counts = message.counts;
    switch (message.type) {
      case 'opened':
        if (message.rebuilt) this.warn(message.rebuilt);
        this.rootHash = message.rootHash;
        this.skips ??= message.skips;
        this.openReader();
        break;
      case 'state':
        if (message.state !== 'error') this.error = undefined;
        else this.error = message.error ?? this.error;
        if (message.state === 'ready') this.restarts = 0;
        this.setState(message.state, message.state === 'ready' || message.state === 'error' ? undefined : message.progress);
        break;
      case 'synced':
        this.generation = message.generation;
        this.rootHash = message.stats.rootHash;
        this.lastSync = message.stats.durationMs > 0 || message.stats.full ? message.stats : this.lastSync;
        if (message.skips) this.skips = message.skips;
        this.emit('synced', message.stats);
        break;
      case 'embed':
        void this.embedForWorker(message.id, message.texts);
        break;
      case 'warning':
        this.warn(message.message);
        break;
      case 'log':
        this.options.log[message.level](message.message, message.fields);
        break;
      case 'done':
        this.completed = Math.max(this.completed, message.id);
        this.emit('done', message.id);
        break;
      case 'stopped':
        break;
    }
  }

  private async embedForWorker(id: number, texts: string[]): Promise<void> {
    const reply = (message: ToIndexer, transfer?: ArrayBuffer[]) => this.worker?.postMessage(message, transfer ?? []);
    const embedder = this.embedder;
    if (!embedder) return reply({ type: 'embedded', id, error: 'no embedder configured' });
    const abort = new AbortController();
    this.embedAborts.add(abort);
    try {
      const vectors = await embedder.embed(texts, abort.signal);
      reply({ type: 'embedded', id, vectors });
    } catch (error) {
      reply({ type: 'embedded', id, error: (error as Error).message });
    } finally {
      this.embedAborts.delete(abort);
    }
  }

  private openReader(): void {
    this.reader?.close();
    this.reader = undefined;
    this.searcher = undefined;
    void this.searchThread?.close();
    this.searchThread = undefined;
    if (!existsSync(this.options.dbFile)) return;
    this.reader = openReader(this.options.dbFile);
    this.searcher = new IndexSearcher(this.reader);
    this.searchThread = new SearchThread(this.options.dbFile);
  }

  private requireReader(): Db {
    if (!this.reader) throw new Error(`the index of ${this.root} is not open yet`);
    return this.reader;
  }

  /** Switches embeddings on, off, or to another model. */
  setEmbedder(embedder: Embedder | undefined): void {
    if (embedder?.modelId === this.embedder?.modelId && embedder?.dimensions === this.embedder?.dimensions) return;
    this.embedder = embedder;
    this.post({
      type: 'configure-embed',
      embed: embedder ? { modelId: embedder.modelId, dimensions: embedder.dimensions, batchSize: this.options.settings.embedBatchSize } : null,
    });
  }

  get embedderInUse(): Embedder | undefined {
    return this.embedder;
  }

  /** Asks for a sync: everything (`full`), or just these relative paths. */
  reindex(full = true, paths?: string[], reason = 'requested'): void {
    this.post({ type: 'sync', id: ++this.requested, full, ...(paths && { paths }), reason });
  }

  /** Resolves once every sync asked for so far has finished (ready, or in error). */
  whenIdle(signal?: AbortSignal): Promise<void> {
    const target = this.requested;
    const idle = () => this.completed >= target && (this.state === 'ready' || this.state === 'error');
    if (idle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = () => {
        if (idle()) finish(resolve);
      };
      const onAbort = () => finish(() => reject(signal!.reason));
      const finish = (fn: () => void) => {
        this.off('done', onChange);
        this.off('state', onChange);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      this.on('done', onChange);
      this.on('state', onChange);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves after the next sync the thread reports. */
  nextSync(): Promise<SyncStats> {
    return new Promise((resolve) => this.once('synced', resolve));
  }

  get syncGeneration(): number {
    return this.generation;
  }

  /** Searches in the search thread; `signal` cancels the query, even while it runs. */
  query(query: SearchQuery, signal?: AbortSignal): Promise<SearchHit[]> {
    this.requireReader();
    return this.searchThread!.search(query, signal);
  }

  /** Definitions by name, looked up in the search thread. */
  findSymbols(query: string, limit: number, kinds?: readonly number[], signal?: AbortSignal): Promise<SymbolHit[]> {
    this.requireReader();
    return this.searchThread!.symbols(query, limit, kinds, signal);
  }

  /** Threads the search side has started (each cancelled running query costs one). */
  get searchThreadsStarted(): number {
    return this.searchThread?.started ?? 0;
  }

  /**
   * Searches on the calling thread. For callers that are not the daemon's main thread (the CLI's
   * own index, benchmarks, worker code); the daemon's request handlers use `query`.
   */
  search(query: SearchQuery): SearchHit[] {
    this.requireReader();
    return this.searcher!.search(query);
  }

  /** Stops the indexing pass in progress (the client cancelled its progress); the next resync resumes. */
  cancelIndexing(): void {
    this.post({ type: 'cancel' });
  }

  /** Fault injection for tests: the file watcher reports `message` as an error and stops. */
  injectWatcherFault(message: string): void {
    this.post({ type: 'fault', fault: 'watcher', message });
  }

  async embedQuery(query: string, signal?: AbortSignal): Promise<Float32Array | undefined> {
    if (!this.embedder) return undefined;
    const [vector] = await this.embedder.embed([query], signal);
    return vector;
  }

  symbols(query: string, limit: number, kinds?: readonly number[]): SymbolHit[] {
    return searchSymbols(this.requireReader(), query, limit, kinds);
  }

  /** A line of an indexed file, from its chunks (for position-encoding conversions). */
  lineText(path: string, line: number): string | undefined {
    const content = this.reader
      ?.prepare('SELECT c.content, c.start_line AS start FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = ? AND c.start_line <= ? AND c.end_line >= ?')
      .get(path, line, line) as { content: string; start: number } | undefined;
    return content?.content.split('\n')[line - content.start];
  }

  /** Answers from what the indexer thread reported: no SQL on the caller's thread. */
  status(): IndexStatus {
    const skips = this.skips ?? { counts: {}, examples: {} };
    const embedder = this.embedder;
    const { counts } = this;
    return {
      root: this.root,
      state: this.state,
      files: counts.files,
      chunks: counts.chunks,
      symbols: counts.symbols,
      skipped: skips.counts,
      skippedExamples: skips.examples,
      rootHash: this.rootHash,
      ...(this.progress && { progress: this.progress }),
      secondPassPending: counts.pending,
      ...(this.error && { error: this.error }),
      warnings: [...this.warnings],
      ...(this.lastSync && { lastSync: this.lastSync }),
      database: this.options.dbFile,
      ...(embedder && {
        embeddings: { model: embedder.modelId, embedded: counts.embedded, total: counts.chunks },
      }),
    };
  }

  private async stopWorker(): Promise<void> {
    for (const abort of this.embedAborts) abort.abort();
    // The readers close first, so that the writer, closing last, checkpoints and removes the WAL.
    await this.searchThread?.close();
    this.searchThread = undefined;
    this.reader?.close();
    this.reader = undefined;
    this.searcher = undefined;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'stop' } satisfies ToIndexer);
      const timeout = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timeout);
    }
  }

  /** Throws the database away and indexes from scratch. */
  async rebuild(): Promise<void> {
    if (this.disposed) return;
    await this.stopWorker();
    for (const suffix of ['', '-wal', '-shm']) rmSync(this.options.dbFile + suffix, { force: true });
    this.skips = undefined;
    this.counts = noRows();
    this.rootHash = '';
    this.lastSync = undefined;
    this.warnings.length = 0;
    this.setState('scanning', undefined);
    this.startWorker();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.stopWorker();
    this.removeAllListeners();
  }
}
