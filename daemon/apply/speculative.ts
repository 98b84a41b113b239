// Speculative edits: the original file is the draft. Each step hands the model a chunk of the
// original to verify in one forward pass, keeps the part it agrees with plus the model's own
// next token, and when the output departs from the original, decodes plainly until its last few
// tokens line up with a place in the original again, then speculates from there. The output is
// exactly what greedy decoding with the same verifier produces: every token kept is the model's
// greedy choice at its position. Pure: the model is behind `Verifier`.

/** One forward pass: the model's greedy choices for a draft continuing the tokens committed so far. */
export interface Verifier {
  /**
   * Verifies `draft` after everything committed so far. Returns how many leading draft tokens
   * agree with the model's greedy choices, and the model's greedy token after those. The verifier
   * commits the accepted tokens and `next` (its state now ends after `next`).
   */
  verify(draft: readonly number[]): Promise<{ accepted: number; next: number }>;
}

export interface SpeculativeOptions {
  /** The draft source: the original file's tokens. */
  draft: readonly number[];
  /** Generation stops before any of these (not included in the output). */
  stopTokens: ReadonlySet<number>;
  maxTokens: number;
  /** Draft tokens verified per pass (default 32). */
  chunk?: number;
  /** Output tokens that must match the original to resume speculating after a departure (default 4). */
  realign?: number;
  signal?: AbortSignal;
  /** Receives tokens as they are committed. */
  onTokens?: (tokens: readonly number[]) => void;
  /** Checked after each pass with every token so far; true ends decoding (a stop string was written). */
  stopWhen?: (tokens: readonly number[]) => boolean;
}

export interface SpeculativeResult {
  tokens: number[];
  /** Forward passes (verify calls). */
  passes: number;
  /** Draft tokens offered, and accepted. */
  drafted: number;
  accepted: number;
  finish: 'stop' | 'length';
}

/**
 * Index of n-grams of the draft, for finding where the output lines up with the original again.
 * Positions are where the n-gram ends (the draft index after it).
 */
export class DraftIndex {
  private readonly ends = new Map<string, number[]>();

  constructor(readonly draft: readonly number[], readonly n: number) {
    for (let end = n; end <= draft.length; end++) {
      const key = draft.slice(end - n, end).join(',');
      const list = this.ends.get(key);
      if (list) list.push(end);
      else this.ends.set(key, [end]);
    }
  }

  /**
   * Where in the draft the output's last n tokens occur, preferring the first occurrence at or
   * after `from` (edits move forward through the file), else the last one before it.
   */
  find(output: readonly number[], from: number): number | undefined {
    if (output.length < this.n) return undefined;
    const list = this.ends.get(output.slice(output.length - this.n).join(','));
    if (!list) return undefined;
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (list[mid]! < from) low = mid + 1;
      else high = mid;
    }
    return low < list.length ? list[low] : list[list.length - 1];
  }
}

export async function speculativeDecode(verifier: Verifier, options: SpeculativeOptions): Promise<SpeculativeResult> {
  const chunk = Math.max(1, options.chunk ?? 32);
  const index = new DraftIndex(options.draft, Math.max(1, options.realign ?? 4));
  const out: number[] = [];
  // Where in the draft the output currently lines up (undefined while it has departed).
  let cursor: number | undefined = 0;
  let lastAligned = 0;
  let passes = 0;
  let drafted = 0;
  let accepted = 0;
  while (out.length < options.maxTokens) {
    if (options.signal?.aborted) throw Object.assign(new Error('speculative decoding cancelled'), { name: 'AbortError' });
    const room = options.maxTokens - out.length;
    // The draft never runs past a stop token or the length limit (a verifier cannot take back tokens).
    const draft = cursor === undefined ? [] : takeUntilStop(options.draft, cursor, Math.min(chunk, room - 1), options.stopTokens);
    const step = await verifier.verify(draft);
    passes++;
    drafted += draft.length;
    accepted += step.accepted;
    const kept = draft.slice(0, step.accepted);
    out.push(...kept);
    if (options.stopTokens.has(step.next)) {
      if (kept.length) options.onTokens?.(kept);
      return { tokens: out, passes, drafted, accepted, finish: 'stop' };
    }
    out.push(step.next);
    options.onTokens?.([...kept, step.next]);
    if (options.stopWhen?.(out)) return { tokens: out, passes, drafted, accepted, finish: 'stop' };

    if (cursor !== undefined) {
      cursor += step.accepted;
      if (options.draft[cursor] === step.next) cursor++;
      else cursor = undefined;
      if (cursor !== undefined) lastAligned = cursor;
    }
    if (cursor === undefined) {
      const found = index.find(out, lastAligned);
      if (found !== undefined) cursor = lastAligned = found;
    }
  }
  return { tokens: out, passes, drafted, accepted, finish: 'length' };
}

function takeUntilStop(draft: readonly number[], from: number, count: number, stop: ReadonlySet<number>): number[] {
  const taken: number[] = [];
  for (let i = from; i < draft.length && taken.length < count; i++) {
    if (stop.has(draft[i]!)) break;
    taken.push(draft[i]!);
  }
  return taken;
}

/** Plain greedy decoding through the same interface: one token per pass (the baseline). */
export async function greedyDecode(verifier: Verifier, options: Pick<SpeculativeOptions, 'stopTokens' | 'maxTokens' | 'signal' | 'stopWhen'>): Promise<SpeculativeResult> {
  const out: number[] = [];
  let passes = 0;
  while (out.length < options.maxTokens) {
    if (options.signal?.aborted) throw Object.assign(new Error('decoding cancelled'), { name: 'AbortError' });
    const { next } = await verifier.verify([]);
    passes++;
    if (options.stopTokens.has(next)) return { tokens: out, passes, drafted: 0, accepted: 0, finish: 'stop' };
    out.push(next);
    if (options.stopWhen?.(out)) return { tokens: out, passes, drafted: 0, accepted: 0, finish: 'stop' };
  }
  return { tokens: out, passes, drafted: 0, accepted: 0, finish: 'length' };
}
