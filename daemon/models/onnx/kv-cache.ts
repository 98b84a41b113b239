// Prefix KV-cache bookkeeping: which cached prompt shares the longest token prefix with a new one,
// least-recently-used eviction under a byte budget, and cutting a KV tensor back to a prefix. Pure.

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

type SequenceArray = Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * The first `length` positions of a [batch, heads, sequence, headDim] tensor's data (sequence is
 * axis 2): one contiguous copy per (batch, head) row block.
 */
export function sliceSequence<T extends SequenceArray>(data: T, dims: readonly number[], length: number): T {
  const [batch = 1, heads = 1, sequence = 0, headDim = 1] = dims;
  if (length > sequence) throw new RangeError(`cannot keep ${length} of ${sequence} positions`);
  if (length === sequence) return data;
  const out = new (data.constructor as new (n: number) => T)(batch * heads * length * headDim);
  const blockIn = sequence * headDim;
  const blockOut = length * headDim;
  for (let row = 0; row < batch * heads; row++) {
    out.set(data.subarray(row * blockIn, row * blockIn + blockOut) as never, row * blockOut);
  }
  return out;
}

export interface CacheEntry<State> {
  /** The tokens whose keys and values `state` holds, in order. */
  tokens: number[];
  state: State;
  bytes: number;
}

/** Recent prompts' KV states, most recently used last. */
export class PrefixCache<State> {
  private entries: CacheEntry<State>[] = [];

  constructor(private readonly budgetBytes: number, private readonly maxEntries = 8) {}

  get size(): number {
    return this.entries.length;
  }

  get bytes(): number {
    return this.entries.reduce((sum, entry) => sum + entry.bytes, 0);
  }

  /** The entry sharing the longest prefix with `tokens` (0-length matches are not returned). */
  lookup(tokens: readonly number[]): { entry: CacheEntry<State>; length: number } | undefined {
    let best: { entry: CacheEntry<State>; length: number } | undefined;
    for (const entry of this.entries) {
      const length = commonPrefixLength(entry.tokens, tokens);
      if (length > 0 && (!best || length > best.length)) best = { entry, length };
    }
    if (best) this.entries = [...this.entries.filter((e) => e !== best!.entry), best.entry];
    return best;
  }

  /** Stores a state; entries whose tokens are a prefix of it are superseded and dropped. */
  store(entry: CacheEntry<State>): void {
    if (entry.bytes > this.budgetBytes || entry.tokens.length === 0) return;
    this.entries = this.entries.filter((e) => !(e.tokens.length <= entry.tokens.length && commonPrefixLength(e.tokens, entry.tokens) === e.tokens.length));
    this.entries.push(entry);
    while (this.entries.length > this.maxEntries || this.bytes > this.budgetBytes) this.entries.shift();
  }

  clear(): void {
    this.entries = [];
  }
}
