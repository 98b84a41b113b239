// The adaptive debounce: how long to wait, after a keystroke, before asking a model. Waiting
// longer while the user types fast saves model calls that would be superseded anyway; waiting
// less when the model is slow keeps the total latency the user sees near the model's own.
// Instant engines (builtin) skip it; explicit invocations skip it; cache hits never reach it.
export interface DebounceOptions {
  minMs?: number;
  maxMs?: number;
  /** Typing gap assumed before any was measured. */
  initialGapMs?: number;
  /** How many average typing gaps to wait. */
  gapFactor?: number;
}

export class AdaptiveDebounce {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly gapFactor: number;
  private averageGapMs: number;
  private averageLatencyMs = 0;
  private readonly lastKeystroke = new Map<string, number>();

  constructor(options: DebounceOptions = {}) {
    this.minMs = options.minMs ?? 25;
    this.maxMs = options.maxMs ?? 400;
    this.gapFactor = options.gapFactor ?? 1.5;
    this.averageGapMs = options.initialGapMs ?? 200;
  }

  /** A keystroke-driven request for `uri` at `now`: updates the typing cadence. */
  recordKeystroke(uri: string, now: number): void {
    const last = this.lastKeystroke.get(uri);
    this.lastKeystroke.set(uri, now);
    if (this.lastKeystroke.size > 1000) this.lastKeystroke.delete(this.lastKeystroke.keys().next().value!);
    if (last === undefined) return;
    const gap = now - last;
    // Pauses longer than two seconds are thinking, not typing.
    if (gap <= 0 || gap > 2000) return;
    this.averageGapMs = 0.7 * this.averageGapMs + 0.3 * Math.min(400, Math.max(30, gap));
  }

  /** How long the model took to answer one request. */
  recordLatency(ms: number): void {
    this.averageLatencyMs = this.averageLatencyMs === 0 ? ms : 0.8 * this.averageLatencyMs + 0.2 * ms;
  }

  /** Milliseconds to wait before calling the model. */
  delayMs(): number {
    const wanted = this.averageGapMs * this.gapFactor - this.averageLatencyMs / 2;
    return Math.round(Math.min(this.maxMs, Math.max(this.minMs, wanted)));
  }

  get typingGapMs(): number {
    return this.averageGapMs;
  }

  get modelLatencyMs(): number {
    return this.averageLatencyMs;
  }
}
