// Runs an index's queries in a worker thread (search-worker.ts), one at a time, each cancellable
// through an AbortSignal: a query cancelled while it runs ends with its thread (SQLite cannot be
// interrupted from another thread through better-sqlite3), and the next query starts a new one.
import { Worker } from 'node:worker_threads';
import type { SearchHit, SearchQuery, SymbolHit } from './search.js';

export type SearchRequest =
  | { id: number; op: 'search'; query: SearchQuery }
  | { id: number; op: 'symbols'; query: string; limit: number; kinds?: readonly number[] }
  | { id: number; op: 'close' };

export type SearchResponse = { id: number; result: unknown } | { id: number; error: string };

type Op = Exclude<SearchRequest, { op: 'close' }>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Job {
  request: Op;
  signal: AbortSignal | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onAbort?: () => void;
}

export class SearchThread {
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private nextId = 1;
  private closed = false;
  /** Threads started so far (a cancelled query costs one). */
  started = 0;

  constructor(private readonly dbFile: string) {}

  search(query: SearchQuery, signal?: AbortSignal): Promise<SearchHit[]> {
    return this.run({ op: 'search', query }, signal) as Promise<SearchHit[]>;
  }

  symbols(query: string, limit: number, kinds: readonly number[] | undefined, signal?: AbortSignal): Promise<SymbolHit[]> {
    return this.run({ op: 'symbols', query, limit, ...(kinds && { kinds }) }, signal) as Promise<SymbolHit[]>;
  }

  private run(request: WithoutId<Op>, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the index is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const job: Job = { request: { ...request, id: this.nextId++ } as Op, signal, resolve, reject };
      if (signal) {
        job.onAbort = () => this.abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  private settle(job: Job, fn: () => void): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    fn();
  }

  private abort(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (this.current === job) {
      // The query is running: only ending its thread stops it.
      this.current = undefined;
      const worker = this.worker;
      this.worker = undefined;
      if (worker) {
        worker.removeAllListeners();
        worker.on('error', () => undefined);
        void worker.terminate();
      }
    } else return;
    this.settle(job, () => job.reject(job.signal!.reason));
    this.pump();
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./search-worker.js', import.meta.url), { workerData: { dbFile: this.dbFile }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.started++;
    worker.unref();
    worker.on('message', (message: SearchResponse) => {
      const job = this.current;
      if (!job || job.request.id !== message.id) return;
      this.current = undefined;
      this.settle(job, () => ('error' in message ? job.reject(new Error(message.error)) : job.resolve(message.result)));
      this.pump();
    });
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const job = this.current;
      this.current = undefined;
      if (job) this.settle(job, () => job.reject(error));
      this.pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the search thread exited (code ${code})`)));
    return worker;
  }

  private pump(): void {
    if (this.closed || this.current) return;
    const job = this.queue.shift();
    if (!job) return;
    this.worker ??= this.spawn();
    this.current = job;
    this.worker.postMessage(job.request);
  }

  /** Ends the thread (and its connection); queued and running queries are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('the index is closed');
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(error));
    const job = this.current;
    this.current = undefined;
    if (job) this.settle(job, () => job.reject(error));
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    worker.removeAllListeners();
    worker.on('error', () => undefined);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ id: 0, op: 'close' } satisfies SearchRequest);
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }
}
