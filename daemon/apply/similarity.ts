// Line similarity for placing modified lines and for showing the nearest lines of an unresolved
// region: Dice coefficient over character bigrams of the whitespace-free text. Pure. Bigrams are
// packed into integers and kept sorted, so comparing two lines is one merge of two small arrays.

export function squash(line: string): string {
  return line.replace(/\s+/g, '');
}

/** A line prepared for comparison. */
export interface LineProfile {
  squashed: string;
  /** Sorted bigram codes (two UTF-16 units packed in 32 bits). */
  bigrams: Uint32Array;
}

export function profile(line: string): LineProfile {
  return profileOfSquashed(squash(line));
}

/** The profile of a line already squashed (its whitespace removed). */
export function profileOfSquashed(squashed: string): LineProfile {
  const count = Math.max(0, squashed.length - 1);
  const bigrams = new Uint32Array(count);
  for (let i = 0; i < count; i++) bigrams[i] = ((squashed.charCodeAt(i) << 16) | squashed.charCodeAt(i + 1)) >>> 0;
  bigrams.sort();
  return { squashed, bigrams };
}

export function profileSimilarity(a: LineProfile, b: LineProfile): number {
  if (a.squashed === b.squashed) return 1;
  const x = a.bigrams;
  const y = b.bigrams;
  if (x.length === 0 || y.length === 0) return 0;
  // Lines of very different lengths cannot be alike; skip the work.
  const ratio = x.length / y.length;
  if (ratio < 0.33 || ratio > 3) return 0;
  let shared = 0;
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    if (x[i] === y[j]) {
      shared++;
      i++;
      j++;
    } else if (x[i]! < y[j]!) i++;
    else j++;
  }
  return (2 * shared) / (x.length + y.length);
}

/**
 * An upper bound of profileSimilarity(a, profile of `squashed`) from the lengths alone: Dice
 * cannot exceed 2·min/(x+y) bigrams, and is 0 where profileSimilarity skips unlike lengths.
 */
export function maxSimilarity(a: LineProfile, squashed: string): number {
  if (a.squashed === squashed) return 1;
  const x = a.bigrams.length;
  const y = Math.max(0, squashed.length - 1);
  if (x === 0 || y === 0) return 0;
  const ratio = x / y;
  if (ratio < 0.33 || ratio > 3) return 0;
  return (2 * Math.min(x, y)) / (x + y);
}

/** 0 (nothing alike) .. 1 (equal ignoring whitespace). */
export function lineSimilarity(a: string, b: string): number {
  return profileSimilarity(profile(a), profile(b));
}

/** Profiles of a fixed list of lines, computed when first needed. */
export class ProfileCache {
  private readonly cache: Array<LineProfile | undefined>;

  /** `squashed`: the lines with their whitespace removed (squash). */
  constructor(private readonly squashed: readonly string[]) {
    this.cache = new Array(squashed.length);
  }

  get(index: number): LineProfile {
    return (this.cache[index] ??= profileOfSquashed(this.squashed[index]!));
  }
}

/** A line with no letters or digits (`}`, `);`, blank): it anchors nothing on its own. */
export function isTrivialLine(line: string): boolean {
  return !/[A-Za-z0-9_]/.test(line) || squash(line).length < 3;
}
