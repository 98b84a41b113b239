// Debounces file-system events into syncs. Events for the same path collapse; the queue flushes
// after a quiet period (or a maximum wait, so a constant trickle still gets indexed), and a burst
// larger than `burstLimit` paths (a branch switch, `npm install`) becomes one full resync instead
// of thousands of single-file updates.

export interface ChangeBatch {
  full: boolean;
  paths: string[];
  reason: string;
}

export interface ChangeQueueOptions {
  debounceMs: number;
  maxWaitMs: number;
  burstLimit: number;
  flush: (batch: ChangeBatch) => void;
  /** Injected for tests. */
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export class ChangeQueue {
  private paths = new Set<string>();
  private full: string | undefined;
  private timer: unknown;
  private firstAt = 0;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(private readonly options: ChangeQueueOptions) {
    this.setTimer = options.setTimer ?? ((callback, ms) => {
      const timer = setTimeout(callback, ms);
      timer.unref?.();
      return timer;
    });
    this.clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as NodeJS.Timeout));
  }

  /** A path (relative) changed. */
  push(path: string, now = Date.now()): void {
    if (this.full === undefined) {
      this.paths.add(path);
      if (this.paths.size > this.options.burstLimit) this.requestFull(`burst of more than ${this.options.burstLimit} changes`);
    }
    this.schedule(now);
  }

  /** Something that needs a full resync (an ignore file changed, the watcher overflowed). */
  requestFull(reason: string, now = Date.now()): void {
    this.full ??= reason;
    this.paths.clear();
    this.schedule(now);
  }

  get size(): number {
    return this.full !== undefined ? Infinity : this.paths.size;
  }

  private schedule(now: number): void {
    if (this.timer === undefined) this.firstAt = now;
    else this.clearTimer(this.timer);
    const waited = now - this.firstAt;
    const delay = Math.max(0, Math.min(this.options.debounceMs, this.options.maxWaitMs - waited));
    this.timer = this.setTimer(() => this.flushNow(), delay);
  }

  flushNow(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    if (this.full === undefined && this.paths.size === 0) return;
    const batch: ChangeBatch = this.full !== undefined
      ? { full: true, paths: [], reason: this.full }
      : { full: false, paths: [...this.paths], reason: `${this.paths.size} changed path(s)` };
    this.full = undefined;
    this.paths = new Set();
    this.options.flush(batch);
  }

  dispose(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.paths.clear();
    this.full = undefined;
  }
}
