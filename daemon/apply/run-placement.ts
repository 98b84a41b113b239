// Placing a run of sketch code that sits between an anchor and an elision marker by the context
// it carries. A model shows a line or two of unchanged code around its change; when that context
// is not unique in the file it does not anchor, and the run (context plus change) floats against
// the anchor it touches. The context still pins it: the run's outer line (the one beside the
// marker) must be a document line, and between that line and the anchor the run replaces the
// document literally (no marker stands there). Of the places where the context occurs, the one
// whose replacement is the smallest edit wins; a tie, a place that needs more separate changes
// than another, or no place beating "everything is new", is no placement. Pure.
import { closesOutside, opensOutside } from './brackets.js';
import { lineSimilarity } from './similarity.js';

export interface RunPlacement {
  /** Document lines [start, end) that the run replaces. */
  start: number;
  end: number;
  /** Run index -> document line it reproduces (equal ignoring whitespace). */
  matches: Map<number, number>;
  /** Non-blank lines inserted plus non-blank document lines removed. */
  cost: number;
  /** Separate stretches of change it makes. */
  regions: number;
  /** Whether every document line it removes is edited line for line (see removalsAreEdits), none dropped. */
  editsOnly: boolean;
}

/**
 * `run` and `doc` are whitespace-free line keys ('' for a blank line). The run touches the
 * document boundary `side` of [lo, hi): 'before' means it ends right before document line `hi`
 * (an anchor follows), 'after' that it starts right at `lo` (an anchor precedes). Its other end
 * faces an elision marker. `window` bounds the scan.
 */
export function placeRunByContext(run: readonly string[], doc: readonly string[], lo: number, hi: number, side: 'before' | 'after', window = 400): RunPlacement | undefined {
  const code = run.map((key, k) => [key, k] as const).filter(([key]) => key !== '');
  if (code.length === 0) return undefined;
  // The context line: the run's line beside the marker.
  const outer = side === 'before' ? code[0]![0] : code[code.length - 1]![0];
  // Reading the whole run as new code costs code.length; a placement must cost less. It may cost
  // as much only when what it removes is edited line for line (a changed line beside its
  // unchanged context, where "all new" would repeat that context next to the original).
  const candidates: RunPlacement[] = [];
  let docNonBlank = 0;
  const limit = side === 'before' ? Math.max(lo, hi - window) : Math.min(hi, lo + window);
  for (let step = 0; ; step++) {
    const c = side === 'before' ? hi - 1 - step : lo + step;
    if (side === 'before' ? c < limit : c >= limit) break;
    if (doc[c] !== '') docNonBlank++;
    // Every document line in the span that the run does not reproduce costs one: beyond this, no place can match "all new".
    if (docNonBlank - code.length > code.length) break;
    if (doc[c] !== outer) continue;
    const [start, end] = side === 'before' ? [c, hi] : [lo, c + 1];
    const matches = commonLines(code, doc, start, end);
    const cost = code.length - matches.size + (docNonBlank - matches.size);
    const editsOnly = removalsAreEdits(run, doc, start, end, matches);
    if (cost < code.length || (cost === code.length && editsOnly)) candidates.push({ start, end, matches, cost, regions: changedRegions(run, doc, start, end, matches), editsOnly });
  }
  if (candidates.length === 0) return undefined;
  const best = candidates.reduce((a, b) => (b.cost < a.cost ? b : a));
  // The smallest edit must be unique, and no other place may explain the run as fewer separate
  // changes (new code that repeats lines of its neighbour would otherwise be matched into them).
  if (candidates.some((other) => other !== best && (other.cost === best.cost || other.regions < best.regions))) return undefined;
  return best;
}

/**
 * Whether every document line a placement removes is edited rather than dropped: each stretch
 * between reproduced lines that removes lines adds as many, each resembling the one it replaces.
 * A placement that only ties with "all new" must be a change of the lines it replaces, not a
 * deletion beside an insertion.
 */
function removalsAreEdits(run: readonly string[], doc: readonly string[], start: number, end: number, matches: ReadonlyMap<number, number>): boolean {
  const reproduced = [...matches].sort((a, b) => a[0] - b[0]);
  const bounds: Array<[number, number]> = [[-1, start - 1], ...reproduced, [run.length, end]];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const added: string[] = [];
    for (let k = bounds[i]![0] + 1; k < bounds[i + 1]![0]; k++) if (run[k] !== '') added.push(run[k]!);
    const removed: string[] = [];
    for (let o = bounds[i]![1] + 1; o < bounds[i + 1]![1]; o++) if (doc[o] !== '') removed.push(doc[o]!);
    if (removed.length > 0 && removed.length !== added.length) return false;
    if (!removed.every((line, k) => lineSimilarity(line, added[k]!) >= EDIT_SIMILARITY)) return false;
  }
  return true;
}

/** How alike a removed line and its replacement must be to count as an edit (a changed hash or version still is). */
const EDIT_SIMILARITY = 0.4;

/** Separate stretches of change (inserted run lines or removed document lines, blank ones aside) in a placement. */
function changedRegions(run: readonly string[], doc: readonly string[], start: number, end: number, matches: ReadonlyMap<number, number>): number {
  let regions = 0;
  let open = false;
  let o = start;
  const closeAt = () => {
    if (open) regions++;
    open = false;
  };
  for (let k = 0; k <= run.length; k++) {
    const target = k < run.length ? matches.get(k) : end;
    if (k < run.length && target === undefined) {
      if (run[k] !== '') open = true;
      continue;
    }
    for (; o < target!; o++) if (doc[o] !== '') open = true;
    if (k < run.length) {
      closeAt();
      o = target! + 1;
    }
  }
  closeAt();
  return regions;
}

/** Longest common subsequence of the run's non-blank lines and the document's in [start, end), as run index -> document line. */
function commonLines(code: ReadonlyArray<readonly [string, number]>, doc: readonly string[], start: number, end: number): Map<number, number> {
  const lines: number[] = [];
  for (let o = start; o < end; o++) if (doc[o] !== '') lines.push(o);
  const n = code.length;
  const m = lines.length;
  const table = new Uint16Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[at(i, j)] = code[i]![0] === doc[lines[j]!] ? table[at(i + 1, j + 1)]! + 1 : Math.max(table[at(i + 1, j)]!, table[at(i, j + 1)]!);
    }
  }
  const matches = new Map<number, number>();
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (code[i]![0] === doc[lines[j]!]) {
      matches.set(code[i]![1], lines[j]!);
      i++;
      j++;
    } else if (table[at(i + 1, j)]! >= table[at(i, j + 1)]!) i++;
    else j++;
  }
  return matches;
}

/** A run placed by the context lines at both its ends: document line `start` is its first line, `end - 1` its last. */
export interface ContextPairPlacement {
  start: number;
  end: number;
  /** Run index -> document line it reproduces (the two context lines, and common lines between). */
  matches: Map<number, number>;
  /** Non-blank lines inserted plus removed, a line edited in place counting once. */
  cost: number;
  /** Non-blank document lines it removes (edited ones included). */
  removed: number;
}

/**
 * A run between two markers whose first and last lines are unchanged context that is not unique
 * in the file: it stands where the document has its first line, then (within what the run could
 * replace) its last line, and between them the run replaces the document literally. `runExact` /
 * `docExact`: the lines without trailing whitespace (the context lines must match with their
 * indentation); `run` / `doc`: whitespace-free keys ('' for blank) for the lines between. The
 * place where that replacement is the smallest edit wins: it must cost less than any other place,
 * counting a removed line that the run edits in place (same position in its stretch, alike) as
 * one change, and no more than any other counting non-blank lines inserted plus removed (the
 * longest common subsequence kept). Where the two counts disagree (a new test that copies its
 * neighbour reads as an insertion one way and as an edit of the neighbour the other), nothing is
 * placed. A removal of more than twice the run's lines is never considered.
 */
export function placeBetweenContexts(run: readonly string[], runExact: readonly string[], doc: readonly string[], docExact: readonly string[]): ContextPairPlacement | undefined {
  const code: number[] = [];
  for (let k = 0; k < run.length; k++) if (run[k] !== '') code.push(k);
  if (code.length < 3) return undefined;
  const first = code[0]!;
  const last = code[code.length - 1]!;
  const middle = code.slice(1, -1);
  const maxRemoved = 2 * code.length;
  /** Common lines of the run's middle and the document's non-blank lines after `a`: lcs[i * width + j] for middle[0..i), lines[0..j). */
  const table = (a: number) => {
    const lines: number[] = [];
    for (let o = a + 1; o < doc.length && lines.length <= maxRemoved; o++) if (doc[o] !== '') lines.push(o);
    const width = lines.length + 1;
    const lcs = new Uint16Array((middle.length + 1) * width);
    for (let i = 1; i <= middle.length; i++) {
      for (let j = 1; j < width; j++) {
        lcs[i * width + j] = run[middle[i - 1]!] === doc[lines[j - 1]!] ? lcs[(i - 1) * width + j - 1]! + 1 : Math.max(lcs[(i - 1) * width + j]!, lcs[i * width + j - 1]!);
      }
    }
    return { lines, width, lcs };
  };
  const candidates: Array<{ a: number; b: number; j: number; raw: number; floor: number; removed: number }> = [];
  for (let a = 0; a < doc.length; a++) {
    if (docExact[a] !== runExact[first]) continue;
    const { lines, width, lcs } = table(a);
    for (let j = 0; j < lines.length; j++) {
      const b = lines[j]!;
      if (docExact[b] !== runExact[last]) continue;
      // Lines [a + 1, b) are replaced: j non-blank document lines there.
      const common = lcs[middle.length * width + j]!;
      const inserted = middle.length - common;
      const removed = j - common;
      candidates.push({ a, b, j, raw: inserted + removed, floor: Math.max(inserted, removed), removed });
    }
  }
  if (candidates.length === 0) return undefined;
  const bestRaw = Math.min(...candidates.map((c) => c.raw));
  // Edits counted once can only lower a cost down to its floor: only candidates whose floor is
  // within reach of the best raw cost need the line-by-line look. Where many places are that
  // close (an insertion between two lines that recur all over the file), none is clear.
  const close = candidates.filter((c) => c.floor <= bestRaw);
  if (close.length > MAX_CLOSE_PLACES) return undefined;
  const scored = close.map((c) => {
    const matches = commonMatches(c.a, c.b, c.j);
    return { ...c, matches, cost: c.raw - editsInPlace(run, doc, matches) };
  });
  const best = scored.reduce((x, y) => (y.cost < x.cost ? y : x));
  if (best.raw !== bestRaw || scored.some((other) => other !== best && other.cost === best.cost)) return undefined;
  // The line beside a marker may itself be new code: the end of a self-contained new block (a new
  // test ending in `});`) inserted after the first context line, or the start of one inserted
  // before the last. Where the run reads so, the placement must beat reading everything but that
  // one context line as new (code.length - 1). A last line that closes a bracket the run did not
  // open (or a first that opens one it does not close) is the document's, not new code. Only a
  // context line of brackets alone is read so: a line that says something is taken as context.
  const lines = code.map((k) => runExact[k]!);
  const newAfter = !/[A-Za-z0-9_]/.test(run[last]!) && !closesOutside(lines.slice(1));
  const newBefore = !/[A-Za-z0-9_]/.test(run[first]!) && !opensOutside(lines.slice(0, -1));
  if ((newAfter || newBefore) && best.cost >= code.length - 1) return undefined;
  return { start: best.a, end: best.b + 1, matches: best.matches, cost: best.cost, removed: best.removed };

  /** Run index -> document line for the context lines at a and b and the common lines between (j non-blank lines replaced). */
  function commonMatches(a: number, b: number, removed: number): Map<number, number> {
    const { lines, width, lcs } = table(a);
    const matches = new Map<number, number>([[first, a], [last, b]]);
    for (let i = middle.length, j = removed; i > 0 && j > 0; ) {
      if (run[middle[i - 1]!] === doc[lines[j - 1]!] && lcs[i * width + j] === lcs[(i - 1) * width + j - 1]! + 1) {
        matches.set(middle[i - 1]!, lines[j - 1]!);
        i--;
        j--;
      } else if (lcs[(i - 1) * width + j]! >= lcs[i * width + j - 1]!) i--;
      else j--;
    }
    return matches;
  }
}

/** Places that close to the smallest edit, beyond which a both-contexts placement is not attempted. */
const MAX_CLOSE_PLACES = 32;

/** Removed lines that the run edits in place: in each stretch between reproduced lines, the k-th added and k-th removed line alike. */
function editsInPlace(run: readonly string[], doc: readonly string[], matches: ReadonlyMap<number, number>): number {
  const reproduced = [...matches].sort((x, y) => x[0] - y[0]);
  let edits = 0;
  for (let i = 0; i + 1 < reproduced.length; i++) {
    const added: string[] = [];
    for (let k = reproduced[i]![0] + 1; k < reproduced[i + 1]![0]; k++) if (run[k] !== '') added.push(run[k]!);
    const removed: string[] = [];
    for (let o = reproduced[i]![1] + 1; o < reproduced[i + 1]![1]; o++) if (doc[o] !== '') removed.push(doc[o]!);
    for (let k = 0; k < Math.min(added.length, removed.length); k++) if (lineSimilarity(added[k]!, removed[k]!) >= IN_PLACE_SIMILARITY) edits++;
  }
  return edits;
}

/** How alike a run line and the document line in its place must be to count as one edit. */
const IN_PLACE_SIMILARITY = 0.6;

