// Sliding anchored lines onto the context a sketch shows beside a marker. A model inserting a
// block shows the line before it (`});`) and the block itself, which often ends with the same
// line (a new test ends in `});` like the one above it). Alignment extends a unique anchor over
// equal neighbours, so the block's own last lines take the document's `});` and blank line, and
// the context beside the marker is left over as code to place inside the elided region, where it
// matches many places. The same sketch reads without any guess when the anchored lines slide back
// onto the context: the context is the document line it repeats, and the block is inserted
// between it and the anchor. Both readings give the same text where the first could be placed,
// so the slide is only tried when the first left a region unresolved. Pure.

/**
 * `keys`: the sketch lines without trailing whitespace ('' for blank; indentation counts); `isMarker`: elision
 * markers; `match`: sketch line -> document line or -1. Returns the match with every such run
 * slid onto its context, or undefined when there is none.
 */
export function slideOntoContext(keys: readonly string[], isMarker: readonly boolean[], match: Int32Array): Int32Array | undefined {
  const slid = Int32Array.from(match);
  let changed = false;
  const free = (s: number) => s >= 0 && s < keys.length && !isMarker[s] && slid[s]! < 0;
  // A run of free lines that ends right before an anchored block and starts right after a marker.
  for (let b = 1; b < keys.length; b++) {
    if (slid[b]! < 0 || !free(b - 1)) continue;
    let t = b - 1;
    while (free(t - 1)) t--;
    if (t === 0 || !isMarker[t - 1]) continue;
    while (keys[t] === '') t++;
    const shift = commonPrefix(keys, t, b, b, (j) => slid[b + j]! >= 0 && slid[b + j] === slid[b]! + j);
    if (shift === 0) continue;
    for (let j = 0; j < shift; j++) {
      slid[t + j] = slid[b + j]!;
      slid[b + j] = -1;
    }
    changed = true;
  }
  // The mirror image: an anchored block, then free lines up to a marker that end like the block.
  for (let b = keys.length - 2; b >= 0; b--) {
    if (slid[b]! < 0 || !free(b + 1)) continue;
    let t = b + 1;
    while (free(t + 1)) t++;
    if (t === keys.length - 1 || !isMarker[t + 1]) continue;
    while (keys[t] === '') t--;
    const shift = commonSuffix(keys, b + 1, t, b, (j) => slid[b - j]! >= 0 && slid[b - j] === slid[b]! - j);
    if (shift === 0) continue;
    for (let j = 0; j < shift; j++) {
      slid[t - j] = slid[b - j]!;
      slid[b - j] = -1;
    }
    changed = true;
  }
  return changed ? slid : undefined;
}

/**
 * How many leading lines of the free run [t, b) equal the anchored lines from b on (each still
 * anchored consecutively), leaving at least one line of the run with something on it.
 */
function commonPrefix(keys: readonly string[], t: number, b: number, from: number, anchoredAt: (j: number) => boolean): number {
  let k = 0;
  while (t + k < b && from + k < keys.length && anchoredAt(k) && keys[t + k] === keys[from + k]) k++;
  while (k > 0 && !hasCode(keys, t + k, b)) k--;
  return k;
}

/** The mirror of commonPrefix: trailing lines of the free run [b1, t] equal to the anchored lines ending at `last`. */
function commonSuffix(keys: readonly string[], b1: number, t: number, last: number, anchoredAt: (j: number) => boolean): number {
  let k = 0;
  while (t - k >= b1 && last - k >= 0 && anchoredAt(k) && keys[t - k] === keys[last - k]) k++;
  while (k > 0 && !hasCode(keys, b1, t - k + 1)) k--;
  return k;
}

function hasCode(keys: readonly string[], from: number, to: number): boolean {
  for (let s = from; s < to; s++) if (keys[s] !== '') return true;
  return false;
}
