// A small pool of parse workers with a bounded queue. Workers are started on first use and
// stopped after a while without work, so an idle daemon holds no parser memory. A worker is
// also replaced after a number of files or once its memory grows past a limit: tree-sitter's
// WebAssembly memory only ever grows, so one huge file would otherwise pin it for good.
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ProcessRequest, ProcessResult } from './process-file.js';

interface Pending {
  request: ProcessRequest;
  resolve: (result: ProcessResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Requests sent and not yet answered, by id. */
  busy: Map<number, Pending>;
  files: number;
  /** Takes no new requests; ends once its last answer is in. */
  retiring: boolean;
}

export interface ParsePoolOptions {
  size?: number;
  idleMs?: number;
  /**
   * Requests sent to a worker ahead of its answers. More than one keeps a worker busy while the
   * thread that feeds it is writing to the database and cannot hand it the next file.
   */
  depth?: number;
  /** Files a worker handles before it is replaced. */
  recycleAfterFiles?: number;
  /** JavaScript heap plus external (WebAssembly, buffers) memory past which a worker is replaced. */
  recycleAboveBytes?: number;
}

export interface WorkerReply {
  id: number;
  result?: ProcessResult;
  error?: string;
  /** The worker's heap and external memory after the request. */
  memory: number;
}

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly size: number;
  private readonly idleMs: number;
  private readonly depth: number;
  private readonly recycleAfterFiles: number;
  private readonly recycleAboveBytes: number;
  /** Workers replaced so far. */
  recycled = 0;
  /** Workers that may run now (at most `size`): see `setLimit`. */
  private limit: number;

  constructor(options: ParsePoolOptions = {}) {
    this.size = Math.max(1, options.size ?? Math.min(4, cpus().length));
    this.limit = this.size;
    this.idleMs = options.idleMs ?? 30_000;
    // Deep: while the indexer thread writes a batch (tens of ms) it hands out nothing, and a
    // worker with 8 small files queued ran dry (git/git lexical pass: about 1,300 files/s at 8,
    // 1,450-1,500 at 64, measured side by side).
    this.depth = Math.max(1, options.depth ?? 64);
    // Rarely by count (each new thread costs a start and leaves its allocator's memory behind),
    // mostly by memory (tree-sitter's WebAssembly memory only grows).
    this.recycleAfterFiles = options.recycleAfterFiles ?? 5000;
    this.recycleAboveBytes = options.recycleAboveBytes ?? 96 * 1024 * 1024;
  }

  process(request: ProcessRequest): Promise<ProcessResult> {
    if (this.closed) return Promise.reject(new Error('parse pool closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  /**
   * Runs at most `workers` threads from now on (between 1 and `size`); those over the limit end
   * once their answers are in. The second pass runs on fewer threads than the first: each parse
   * thread holds tens of MB of tree-sitter memory, and that pass is background work.
   */
  setLimit(workers: number): void {
    this.limit = Math.min(this.size, Math.max(1, Math.floor(workers)));
    const live = this.slots.filter((slot) => !slot.retiring);
    for (const slot of [...live].sort((a, b) => a.busy.size - b.busy.size).slice(0, Math.max(0, live.length - this.limit))) {
      slot.retiring = true;
      if (slot.busy.size === 0) this.end(slot);
    }
    this.pump();
  }

  /**
   * Starts the threads the limit allows now, so that their start (a new JavaScript engine and its
   * modules, tens of ms each) overlaps other work, such as the scan of a cold index.
   */
  warm(): void {
    if (this.closed) return;
    while (this.slots.filter((slot) => !slot.retiring).length < this.limit) this.spawn();
    this.pump();
  }

  /** Threads running now (retiring ones included). */
  get workers(): number {
    return this.slots.length;
  }

  get pending(): number {
    return this.queue.length + this.slots.reduce((sum, slot) => sum + slot.busy.size, 0);
  }

  private spawn(): Slot {
    // A small young generation: parse threads make much short-lived garbage, and each thread's
    // default nursery (up to 48 MB) would otherwise stay resident.
    const worker = new Worker(new URL('./parse-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    const slot: Slot = { worker, busy: new Map(), files: 0, retiring: false };
    worker.on('message', (message: WorkerReply) => {
      const pending = slot.busy.get(message.id);
      if (!pending) return;
      slot.busy.delete(message.id);
      slot.files++;
      if (!slot.retiring && (slot.files >= this.recycleAfterFiles || message.memory > this.recycleAboveBytes)) {
        slot.retiring = true;
        this.recycled++;
      }
      if (slot.retiring && slot.busy.size === 0) this.end(slot);
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.result!);
      this.pump();
    });
    const fail = (error: Error) => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      for (const pending of slot.busy.values()) pending.reject(error);
      slot.busy.clear();
      this.pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`parse worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  /** Ends a worker that has no request in flight. */
  private end(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => undefined);
    void slot.worker.terminate();
  }

  private pump(): void {
    if (this.closed) return;
    clearTimeout(this.idleTimer);
    while (this.queue.length) {
      // The least busy worker that takes requests, or a new one while there is room.
      let slot: Slot | undefined;
      for (const candidate of this.slots) {
        if (candidate.retiring || candidate.busy.size >= this.depth) continue;
        if (!slot || candidate.busy.size < slot.busy.size) slot = candidate;
      }
      const live = this.slots.filter((s) => !s.retiring).length;
      if ((!slot || slot.busy.size > 0) && live < this.limit) slot = this.spawn();
      if (!slot) return;
      const pending = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy.set(id, pending);
      slot.worker.postMessage({ id, request: pending.request });
    }
    if (this.slots.length && this.slots.every((slot) => slot.busy.size === 0)) {
      this.idleTimer = setTimeout(() => void this.stopWorkers(), this.idleMs);
      this.idleTimer.unref();
    }
  }

  private async stopWorkers(): Promise<void> {
    const idle = this.slots.filter((slot) => slot.busy.size === 0);
    for (const slot of idle) {
      this.slots.splice(this.slots.indexOf(slot), 1);
      slot.worker.removeAllListeners('exit');
      await slot.worker.terminate();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const pending of this.queue.splice(0)) pending.reject(new Error('parse pool closed'));
    await Promise.all(
      this.slots.splice(0).map((slot) => {
        slot.worker.removeAllListeners('exit');
        for (const pending of slot.busy.values()) pending.reject(new Error('parse pool closed'));
        slot.busy.clear();
        return slot.worker.terminate();
      }),
    );
  }
}
