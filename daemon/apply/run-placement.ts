// Placing a run of sketch code that sits between an anchor and an elision marker by the context
// it carries. A model shows a line or two of unchanged code around its change; when that context
// is not unique in the file it does not anchor, and the run (context plus change) floats against
// the anchor it touches. The context still pins it: the run's outer line (the one beside the
// marker) must be a document line, and between that line and the anchor the run replaces the
// document literally (no marker stands there). Of the places where the context occurs, the one
// whose replacement is the smallest edit wins; a tie, a place that needs more separate changes
// than another, or no place beating "everything is new", is no placement. Pure.
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
