// Choosing the next token from a row of logits. Pure functions over Float32Array views.

/** Index of the largest logit; ties go to the lowest token id. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const value = logits[i]!;
    if (value > bestValue) {
      bestValue = value;
      best = i;
    }
  }
  return best;
}

/** The winning token and how far the runner-up trails it (0 for a tie). */
export function topTwo(logits: ArrayLike<number>): { token: number; margin: number } {
  const token = argmax(logits);
  let second = -Infinity;
  for (let i = 0; i < logits.length; i++) if (i !== token && logits[i]! > second) second = logits[i]!;
  return { token, margin: logits[token]! - second };
}

export interface SamplingOptions {
  /** 0 (or absent) is greedy decoding. */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP (default 1). */
  topP?: number;
}

/** Deterministic uniform numbers in [0, 1) from a seed (mulberry32), for reproducible sampling. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks a token: greedy at temperature 0, else a draw from the tempered, top-p truncated distribution. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  const temperature = options.temperature ?? 0;
  if (!(temperature > 0)) return argmax(logits);
  const topP = Math.min(Math.max(options.topP ?? 1, 0), 1);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const order: number[] = [];
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp((logits[i]! - max) / temperature);
    weights[i] = w;
    total += w;
    order.push(i);
  }
  // Highest probability first; equal weights keep id order so the result is deterministic.
  order.sort((a, b) => weights[b]! - weights[a]! || a - b);
  let kept = 0;
  let mass = 0;
  for (const id of order) {
    mass += weights[id]!;
    kept++;
    if (mass / total >= topP) break;
  }
  let target = random() * mass;
  for (let k = 0; k < kept; k++) {
    const id = order[k]!;
    target -= weights[id]!;
    if (target < 0) return id;
  }
  return order[kept - 1]!;
}
