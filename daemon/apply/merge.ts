// Deterministic lazy-sketch merge. A sketch is code that may elide unchanged parts with marker
// lines; merging anchors its lines to the document, expands each marker to the original lines it
// stands for, places new lines, drops the lines the sketch left out between two anchors, and
// refuses to guess: a region it cannot place for certain is reported, never silently dropped.
//
// 1. Anchors: patience alignment of sketch lines to document lines: equal heads and tails, then
//    lines unique on both sides (exact, then ignoring whitespace), their longest increasing run,
//    recursively inside the gaps. Lines without letters or digits never anchor on their own.
// 2. Each gap between consecutive anchors is resolved on its own:
//    - no marker in the sketch gap: the sketch lines replace the document lines (an explicit
//      deletion when the sketch gap is empty);
//    - markers only: the document lines stay;
//    - code beside a marker: it sits against the anchor it touches, replacing the document lines
//      there that it visibly modifies; if it also resembles a line deeper inside the elided
//      region, or floats between two markers, it is unresolved, unless the unchanged line it
//      shows beside the marker places it (run-placement.ts).
// 3. The ends of a fragment are elided implicitly; a sketch that covers most of the file and does
//    not start (or end) with a marker is taken to mean what it shows there (short unshown edges
//    without imports or definitions are deleted: edge-lines.ts).
// 4. When a region stays unresolved, two more readings are tried: anchors that new code repeats
//    slid back onto the context beside the marker (context-shift.ts), and the sketch placed by
//    its context lines alone (run-placement.ts), moving only anchors that are islands in new code.
import { diffTexts, dominantEol, lineContent, lineTerminator, splitLines } from '../diff/index.js';
import { detectIndent, indentColumns, leadingWhitespace, mode, Reindenter } from './indentation.js';
import { looksLikeElision } from './markers.js';
import { edgeDeletionIsSafe } from './edge-lines.js';
import { placeBetweenContexts, placeRunByContext } from './run-placement.js';
import { slideOntoContext } from './context-shift.js';
import { closesOutside } from './brackets.js';

export { closesOutside };
import { isTrivialLine, lineSimilarity, maxSimilarity, ProfileCache, profile, profileSimilarity, squash } from './similarity.js';

export interface NearLines {
  /** Document lines [startLine, endLine). */
  startLine: number;
  endLine: number;
  text: string;
  similarity: number;
}

export interface UnresolvedRegion {
  kind: 'ambiguous' | 'unanchored';
  message: string;
  /** Sketch lines [sketchStart, sketchEnd). */
  sketchStart: number;
  sketchEnd: number;
  text: string;
  nearest: NearLines[];
}

export interface MergeRefusal {
  kind: 'emptySketch' | 'markersOnly' | 'noAnchors';
  message: string;
  nearest: NearLines[];
}

export interface MergeResult {
  /** The merged text; the document's own lines wherever a region is unresolved. */
  text: string;
  unresolved: UnresolvedRegion[];
  /** Set when nothing could be merged at all; `text` is then the original. */
  refusal?: MergeRefusal;
  /** Sketch lines anchored to document lines. */
  anchors: number;
  /** Sketch lines recognised as elision markers. */
  markers: number;
}

/** Modified lines must be at least this alike to the document line they replace. */
const REPLACE_SIMILARITY = 0.6;
/** A new line this alike to a line deep inside an elided region may be meant to change it. */
const AMBIGUOUS_SIMILARITY = 0.85;
/**
 * How far into an elided region the ambiguity checks look for a line a new line might be meant
 * to change. Beyond it a change would need context far from the sketch's own lines.
 */
const AMBIGUITY_WINDOW = 400;
/**
 * A gap without markers that removes more lines than this is checked for islands: anchors that
 * new code surrounds (ISLAND_RUN lines with letters or fewer in a row) cannot justify it alone.
 */
const SMALL_DELETION = 3;
const ISLAND_RUN = 2;
/** A line a context placement removes must be this alike to a line the run adds to count as reworked. */
const REWORK_SIMILARITY = 0.4;
/** A line placing a sketch by similarity alone must beat every other document line by this much. */
const CLEAR_MARGIN = 0.25;
/** A sketch without markers that covers this share of the file's lines is the whole new file. */
const WHOLE_FILE_SHARE = 0.9;

export function mergeSketch(original: string, sketch: string): MergeResult {
  const originalLines = splitLines(original);
  const doc = originalLines.map(lineContent);
  const sk = stripCodeFence(splitLines(sketch).map(lineContent), doc);
  const refuse = (kind: MergeRefusal['kind'], message: string, nearest: NearLines[] = []): MergeResult => ({
    text: original,
    unresolved: [],
    refusal: { kind, message, nearest },
    anchors: 0,
    markers: 0,
  });

  if (sk.every((line) => line.trim() === '')) {
    return refuse('emptySketch', 'The sketch is empty: send the code to merge (the new file, or the changed part with unchanged code elided by `// ... existing code ...` comments).');
  }
  // A marker-looking line that the document also has (a Python `...` body, say) is code if it
  // anchors there, and a marker otherwise; other marker-looking lines never anchor.
  const looksMarker = sk.map((line) => looksLikeElision(line));
  const markerTexts = new Set(sk.filter((_, i) => looksMarker[i]).map((line) => line.trim()));
  // Computed once: every alignment and placement pass below compares against the same document.
  const docKeys = documentKeys(doc);
  const docTrimmed = new Set<string>();
  if (markerTexts.size > 0) {
    // Equal once trimmed implies equal once squashed, and the squashed keys exist already.
    const markerKeys = new Set([...markerTexts].map(squash));
    doc.forEach((line, o) => {
      if (markerKeys.has(docKeys.loose[o]!) && markerTexts.has(line.trim())) docTrimmed.add(line.trim());
    });
  }
  const baseIsMarker = sk.map((line, i) => looksMarker[i]! && !docTrimmed.has(line.trim()));
  if (sk.every((line, i) => looksMarker[i] || line.trim() === '')) {
    return refuse('markersOnly', 'The sketch holds only elision markers, so there is nothing to apply: the model left out the code it meant to change.');
  }
  const eol = dominantEol(original);
  if (docKeys.loose.every((key) => key === '')) {
    if (looksMarker.some(Boolean)) {
      return refuse('noAnchors', 'The document is empty, but the sketch elides code with markers: there is nothing for the markers to stand for. Send the complete text.');
    }
    return { text: sk.join(eol) + (original.length === 0 || /[\r\n]$/.test(original) ? eol : ''), unresolved: [], anchors: 0, markers: 0 };
  }

  // The longest chain of unique lines is usually right; when it dropped unique lines that disagree
  // with it (new code copying a block that exists elsewhere), the merge is also tried without the
  // chain's side of the disagreement, and the result that explains the sketch with fewer
  // unresolved regions, then fewer changed lines, wins.
  const docProfiles = new ProfileCache(docKeys.loose);
  const docNonBlank = docKeys.loose.reduce((count, key) => count + (key === '' ? 0 : 1), 0);
  const first = mergeFrom(new Set());
  let chosen = first.conflicts.length === 0 || first.result.refusal ? first.result : preferred(first.result, mergeFrom(new Set(first.conflicts)).result, original);
  // A region left unresolved may be context that alignment gave to the new code's own equal lines
  // (context-shift.ts): read with those anchors slid onto the context, the sketch may place fully.
  if (chosen.unresolved.length > 0) {
    const slid = mergeFrom(new Set(), 'slide');
    if (slid && slid.result.unresolved.length < chosen.unresolved.length && !slid.result.refusal) chosen = slid.result;
  }
  // One run between two markers whose alignment left something unresolved (a line of new code
  // that happens to be unique elsewhere anchored it there): placed by the context at both its ends.
  // It may move only anchors that are islands in new code: a run of anchored lines that says
  // more (two lines with letters) is context the placement must agree with.
  if (chosen.unresolved.length > 0) {
    const placed = mergeFrom(new Set(), 'contexts');
    if (placed && placed.result.unresolved.length === 0 && !placed.result.refusal && movesOnlyIslands(first.match, placed.match)) chosen = placed.result;
  }
  return flagNoChange(chosen);

  /**
   * A sketch is sent to change something. When its merge changes nothing although the sketch is
   * not the document itself, the change it meant was lost somewhere: most often a deletion next to
   * lines that also stand elsewhere, which the elided code could equally well explain. Say so.
   */
  function flagNoChange(result: MergeResult): MergeResult {
    if (result.refusal || result.unresolved.length > 0 || result.text !== original) return result;
    const shown = sk.filter((line) => line.trim() !== '').map((line) => line.trimEnd());
    const whole = doc.filter((line) => line.trim() !== '').map((line) => line.trimEnd());
    if (shown.length === whole.length && shown.every((line, k) => line === whole[k])) return result;
    const code = sk.map((line, s) => [line, s] as const).filter(([line, s]) => !baseIsMarker[s] && line.trim() !== '');
    return {
      ...result,
      unresolved: [{
        kind: 'ambiguous',
        message: 'The sketch, merged, changes nothing: every line it shows is already in the document where it anchors, so the change it was meant to make (perhaps deleting lines it no longer shows) cannot be told apart from elided unchanged code. Show the lines around the change without a marker between them.',
        sketchStart: code[0]?.[1] ?? 0,
        sketchEnd: (code[code.length - 1]?.[1] ?? 0) + 1,
        text: sk.join('\n'),
        nearest: nearestLines(code.slice(0, 8).map(([line]) => line), doc, 0, doc.length),
      }],
    };
  }

  /**
   * When no line is unique, a sketch of one code run can still be placed by what it shows: a run
   * that reaches the file's edge (no marker there) by the context beside its marker, placed from
   * that edge; a run between two markers by its one line that is a clear edit of a single
   * document line (the best match by far), with context on both sides placing the lines around it.
   * The lines so placed become the anchors.
   */
  function anchorsByContext(isMarker: readonly boolean[], aligned?: Int32Array): Array<[number, number]> {
    const code: number[] = [];
    for (let s = 0; s < sk.length; s++) if (!isMarker[s] && sk[s]!.trim() !== '') code.push(s);
    if (code.length === 0 || code.some((s, k) => k > 0 && isMarker.slice(code[k - 1]!, s).some(Boolean))) return [];
    const run: number[] = [];
    for (let s = code[0]!; s <= code[code.length - 1]!; s++) run.push(s);
    const markerBefore = isMarker.slice(0, code[0]).some(Boolean);
    const markerAfter = isMarker.slice(code[code.length - 1]! + 1).some(Boolean);
    const keys = (lines: number[]) => lines.map((t) => squash(sk[t]!));
    /** Whether anchoring `pairs` leaves every non-blank document line between them and the edge `side` faces in place, in order. */
    const removesNothing = (pairs: Array<[number, number]>, side: 'before' | 'after') => {
      const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
      const [lo, hi] = side === 'before' ? [sorted[0]![1], doc.length] : [0, sorted[sorted.length - 1]![1] + 1];
      let at = 0;
      for (let o = lo; o < hi; o++) {
        if (docKeys.loose[o] === '') continue;
        if (at >= sorted.length || sorted[at]![1] !== o) return false;
        at++;
      }
      return true;
    };
    const placed = (lines: number[], lo: number, hi: number, side: 'before' | 'after', removing = true) => {
      const placement = placeRunByContext(keys(lines), docKeys.loose, lo, hi, side, AMBIGUITY_WINDOW);
      if (!placement || (!removing && !placement.editsOnly)) return undefined;
      return [...placement.matches].map(([k, o]): [number, number] => [lines[k]!, o]);
    };
    // Placed from the file's edge, the run must reproduce a line that says something: closing
    // brackets alone occur everywhere. Unless the placement removes nothing: the bracket is then
    // the file's own edge line and the run only adds code beyond it (appending after the last `});`).
    const fromEdge = (side: 'before' | 'after') => {
      const pairs = placed(run, 0, doc.length, side);
      if (!pairs || pairs.length === 0) return [];
      if (pairs.some(([t]) => !isTrivialLine(sk[t]!))) return pairs;
      return removesNothing(pairs, side) ? pairs : [];
    };
    if (markerBefore && !markerAfter) return fromEdge('before');
    if (!markerBefore && markerAfter) return fromEdge('after');
    if (!markerBefore || !markerAfter) return [];
    // The line that is the clearest edit of exactly one document line.
    let pivot: { s: number; o: number; score: number } | undefined;
    for (const t of run) {
      if (isTrivialLine(sk[t]!)) continue;
      const mine = profile(sk[t]!);
      let best = -1;
      let bestScore = 0;
      let second = 0;
      for (let o = 0; o < doc.length; o++) {
        if (maxSimilarity(mine, docKeys.loose[o]!) < REPLACE_SIMILARITY) continue;
        const score = profileSimilarity(mine, docProfiles.get(o));
        if (score > bestScore) [second, bestScore, best] = [bestScore, score, o];
        else if (score > second) second = score;
      }
      if (best >= 0 && bestScore >= REPLACE_SIMILARITY && bestScore < 1 && second < bestScore - CLEAR_MARGIN && (!pivot || bestScore > pivot.score)) pivot = { s: t, o: best, score: bestScore };
    }
    if (!pivot) return anchorsBetweenContexts(isMarker, aligned);
    const before = run.filter((t) => t < pivot.s);
    const after = run.filter((t) => t > pivot.s);
    if (before.every((t) => sk[t]!.trim() === '') || after.every((t) => sk[t]!.trim() === '')) return [];
    // Placed by a line that is not equal to anything, the lines around it may only add code or
    // edit lines line for line, never drop any.
    const left = placed(before, Math.max(0, pivot.o - AMBIGUITY_WINDOW), pivot.o, 'before', false);
    const right = placed(after, pivot.o + 1, Math.min(doc.length, pivot.o + 1 + AMBIGUITY_WINDOW), 'after', false);
    return left && right ? [...left, [pivot.s, pivot.o], ...right] : [];
  }

  /** Whether every run of consecutively anchored lines in `before` that has two lines with letters is anchored the same in `after`. */
  function movesOnlyIslands(before: Int32Array, after: Int32Array): boolean {
    for (let s = 0; s < sk.length; ) {
      if (before[s]! < 0) {
        s++;
        continue;
      }
      let end = s + 1;
      while (end < sk.length && before[end]! >= 0 && before[end] === before[end - 1]! + 1) end++;
      let informative = 0;
      for (let t = s; t < end; t++) if (!isTrivialLine(sk[t]!)) informative++;
      if (informative >= ISLAND_RUN) for (let t = s; t < end; t++) if (after[t] !== before[t]) return false;
      s = end;
    }
    return true;
  }

  /**
   * A sketch that is one run of code between two markers, placed by its first and last lines as
   * unchanged context (run-placement.ts placeBetweenContexts); [] when it is not such a sketch or
   * no single place is the smallest edit.
   */
  function anchorsBetweenContexts(isMarker: readonly boolean[], aligned?: Int32Array): Array<[number, number]> {
    const code: number[] = [];
    for (let s = 0; s < sk.length; s++) if (!isMarker[s] && sk[s]!.trim() !== '') code.push(s);
    if (code.length < 3) return [];
    const from = code[0]!;
    const to = code[code.length - 1]!;
    if (!isMarker.slice(0, from).some(Boolean) || !isMarker.slice(to + 1).some(Boolean) || isMarker.slice(from, to).some(Boolean)) return [];
    const lines = sk.slice(from, to + 1);
    const placement = placeBetweenContexts(lines.map(squash), lines.map((line) => line.trimEnd()), docKeys.loose, docKeys.exact);
    if (!placement) return [];
    // Where alignment anchored one context line at the same place and nothing else of the run,
    // the rest may also be new code beside it. A placement that removes lines must then be the
    // smaller edit, or rework what it removes: each removed line resembles a line the run adds
    // (`end: () => socket.end(...)` becoming a block), not a line dropped for an unrelated one.
    // One that only inserts is that reading's own insertion.
    const alignedInRun = aligned ? lines.filter((_, k) => aligned[from + k]! >= 0).length : 0;
    if (aligned && placement.removed > 0 && alignedInRun === 1 && (aligned[from] === placement.start || aligned[to] === placement.end - 1)) {
      let unanchored = 0;
      for (let s = from; s <= to; s++) if (aligned[s]! < 0 && sk[s]!.trim() !== '') unanchored++;
      if (placement.cost >= unanchored && !removalsReworked(lines, placement)) return [];
    }
    return [...placement.matches].map(([k, o]): [number, number] => [from + k, o]).sort((x, y) => x[0] - y[0]);
  }

  /** Whether every document line a context placement removes resembles some line the run adds. */
  function removalsReworked(lines: readonly string[], placement: { start: number; end: number; matches: ReadonlyMap<number, number> }): boolean {
    const kept = new Set(placement.matches.values());
    const added = lines.filter((line, k) => !placement.matches.has(k) && line.trim() !== '').map(profile);
    for (let o = placement.start + 1; o < placement.end - 1; o++) {
      if (kept.has(o) || docKeys.loose[o] === '') continue;
      const theirs = docProfiles.get(o);
      if (added.some((mine) => profileSimilarity(mine, theirs) >= REWORK_SIMILARITY)) return true;
    }
    return false;
  }

  /**
   * A sketch without markers in which no line anchors is still the whole file rewritten when its
   * lines are, in order and one for one, visible modifications of the document's lines (a file
   * of a few lines, each edited). Its text with the document's line endings; undefined otherwise.
   */
  function wholeFileRewrite(): string | undefined {
    const mine = sk.filter((line) => line.trim() !== '');
    const theirs = doc.filter((line) => line.trim() !== '');
    if (mine.length !== theirs.length || mine.length === 0) return undefined;
    if (!mine.every((line, k) => !isTrivialLine(line) && lineSimilarity(line, theirs[k]!) >= REPLACE_SIMILARITY)) return undefined;
    let last = sk.length;
    while (last > 0 && sk[last - 1]!.trim() === '') last--;
    return sk.slice(0, last).join(eol) + (endsWithEol(original) ? eol : '');
  }

  function mergeFrom(initialBanned: ReadonlySet<number>): Reading;
  function mergeFrom(initialBanned: ReadonlySet<number>, reading: 'slide' | 'contexts'): Reading | undefined;
  function mergeFrom(initialBanned: ReadonlySet<number>, reading: 'align' | 'slide' | 'contexts' = 'align'): Reading | undefined {
    // Anchors inside new code are demoted and the alignment redone without them, so that the
    // places they stole from (by being unique) go back to the lines that really anchor there.
    const isMarker = [...baseIsMarker];
    const banned = new Set<number>(initialBanned);
    let dropped: Array<[number, number]> = [];
    let match = alignLines(sk, isMarker, doc, banned, dropped, docKeys);
    for (let round = 0; round < 3; round++) {
      const demoted = [...demoteIsolatedAnchors(sk, isMarker, doc, match), ...misplacedBlocks(sk, isMarker, doc, match)];
      if (demoted.length === 0) break;
      for (const s of demoted) banned.add(s);
      dropped = [];
      match = alignLines(sk, isMarker, doc, banned, dropped, docKeys);
    }
    for (let s = 0; s < sk.length; s++) if (looksMarker[s] && match[s]! < 0) isMarker[s] = true;
    if (reading === 'slide') {
      const slid = slideOntoContext(sk.map((line) => line.trimEnd()), isMarker, match);
      if (!slid) return undefined;
      match = slid;
    } else if (reading === 'contexts') {
      let pairs = anchorsBetweenContexts(isMarker, match);
      if (pairs.length === 0) pairs = anchorsByContext(isMarker, match);
      if (pairs.length === 0) return undefined;
      match = new Int32Array(sk.length).fill(-1);
      for (const [s, o] of pairs) match[s] = o;
    }
    if (!match.some((o) => o >= 0)) for (const [s, o] of anchorsByContext(isMarker)) match[s] = o;
    const markerCount = isMarker.filter(Boolean).length;
    const anchors: Array<[number, number]> = [];
    for (let s = 0; s < sk.length; s++) if (match[s]! >= 0) anchors.push([s, match[s]!]);
    if (anchors.length === 0) {
      const rewrite = markerCount === 0 ? wholeFileRewrite() : undefined;
      if (rewrite !== undefined) return { conflicts: [], match, result: { text: rewrite, unresolved: [], anchors: 0, markers: 0 } };
      const firstCode = sk.findIndex((line, i) => !isMarker[i] && line.trim() !== '');
      const block = codeBlockAround(sk, isMarker, firstCode);
      return { conflicts: [], match, result: refuse(
        'noAnchors',
        'No line of the sketch matches the document, so there is nowhere to put it. Is the sketch for another file, or another language? Nearest lines are listed.',
        nearestLines(block.map((s) => sk[s]!), doc, 0, doc.length),
      ) };
    }

    // The ends: a fragment's edges are elided implicitly; a sketch covering most of the file is literal.
    const codeLines = sk.filter((line, i) => !isMarker[i] && line.trim() !== '').length;
    // A sketch that uses markers means what it shows at its ends (an end without a marker ends
    // there: lines beyond it are deleted); one without markers is a fragment, unless it is the file.
    const literalEnds = markerCount > 0 || codeLines >= WHOLE_FILE_SHARE * docNonBlank;
    const firstNonBlank = sk.findIndex((line) => line.trim() !== '');
    const lastNonBlank = sk.length - 1 - [...sk].reverse().findIndex((line) => line.trim() !== '');
    const implicitStart = !literalEnds && !isMarker[firstNonBlank];
    const implicitEnd = !literalEnds && !isMarker[lastNonBlank];

    // Indentation translation, learned from the anchored lines.
    // A sample is enough to tell a file's indentation style.
    const fileStyle = detectIndent(doc.length > 2000 ? doc.slice(0, 2000) : doc);
    const sketchStyle = detectIndent(sk.filter((_, i) => !isMarker[i]), fileStyle.unit);
    const sketchTabWidth = fileStyle.useTabs ? (sketchStyle.useTabs ? fileStyle.unit : sketchStyle.unit) : fileStyle.unit;
    const fileTabWidth = fileStyle.useTabs ? sketchTabWidth : fileStyle.unit;
    const offsets = anchors
      .filter(([s, o]) => sk[s]!.trim() !== '' && sk[s] !== doc[o])
      .map(([s, o]) => indentColumns(leadingWhitespace(doc[o]!), fileTabWidth) - indentColumns(leadingWhitespace(sk[s]!), sketchTabWidth));
    const exactAnchors = anchors.filter(([s, o]) => sk[s]!.trim() !== '' && sk[s] === doc[o]).length;
    // Shift the sketch only when it is shifted as a whole: lines it reproduces exactly show it is not.
    const offset = offsets.length >= 2 && exactAnchors === 0 ? mode(offsets) : 0;
    const reindent = new Reindenter({ ...fileStyle, unit: fileTabWidth }, sketchTabWidth, offset);

    const out: Array<{ text: string; eol: string }> = [];
    const unresolved: UnresolvedRegion[] = [];
    const emitOriginal = (from: number, to: number) => {
      for (let o = from; o < to; o++) out.push({ text: doc[o]!, eol: lineTerminator(originalLines[o]!) });
    };
    const emitSketch = (lines: number[]) => {
      for (const s of lines) out.push({ text: reindent.render(sk[s]!), eol });
    };
    const emitAnchor = (s: number, o: number) => {
      const mine = sk[s]!;
      const theirs = doc[o]!;
      if (mine === theirs || mine.trimEnd() === theirs.trimEnd()) return emitOriginal(o, o + 1);
      // Matched ignoring whitespace. Where the indentation agrees once the sketch's style is
      // translated, keep the document's indentation and take the rest of the line from the sketch
      // (it may fix spacing inside the line); otherwise the sketch re-indented the line on purpose.
      const sameIndent = reindent.columnsOfSketch(mine) + reindent.offset === reindent.columnsOfFile(theirs);
      const text = sameIndent ? leadingWhitespace(theirs) + mine.trim() : reindent.render(mine);
      if (text === theirs.trimEnd()) return emitOriginal(o, o + 1);
      out.push({ text, eol: lineTerminator(originalLines[o]!) || eol });
    };

    const bounds: Array<[number, number]> = [[-1, -1], ...anchors, [sk.length, doc.length]];
    const moved = movedDeletions(bounds);
    // A sketch whose every line of code anchors inserts nothing, so no new code can have copied
    // existing lines: a deletion it shows between two runs of context that each say something
    // (two lines with letters) is what it means, even where the deleted lines repeat that context.
    const insertsNothing = sk.every((line, s) => isMarker[s] || line.trim() === '' || match[s]! >= 0);
    const shownDeletion = (i: number) =>
      insertsNothing && runInformative(i, -1) >= ISLAND_RUN && runInformative(i + 1, 1) >= ISLAND_RUN && !contextFitsGap(i);
    for (let i = 0; i + 1 < bounds.length; i++) {
      const [sa, oa] = bounds[i]!;
      const [sb, ob] = bounds[i + 1]!;
      const items: Item[] = [];
      const inner: Item[] = [];
      for (let s = sa + 1; s < sb; s++) inner.push({ marker: isMarker[s]!, s });
      // An implicit end is dropped when the sketch's own edge lines are the document's edge lines.
      const unshown = (from: number, to: number) =>
        inner.every((item) => sk[item.s]!.trim() === '') && nonBlank(from, to) > 0 && !edgeDeletionIsSafe(doc.slice(from, to));
      const guardStart = i === 0 && !implicitStart && markerCount > 0 && !isMarker[firstNonBlank] && unshown(0, ob);
      const guardEnd = i + 2 === bounds.length && !implicitEnd && markerCount > 0 && !isMarker[lastNonBlank] && unshown(oa + 1, doc.length);
      if ((i === 0 && implicitStart && !edgeRunMatches(inner, 'start', ob)) || guardStart) items.push({ marker: true, s: -1 });
      items.push(...inner);
      if ((i + 2 === bounds.length && implicitEnd && !edgeRunMatches(inner, 'end', oa + 1)) || guardEnd) items.push({ marker: true, s: sk.length });
      if (guardStart) flagUnshownEdge(0, ob, sb);
      if (guardEnd) flagUnshownEdge(oa + 1, doc.length, sa + 1);
      const fragmentEdge = (i === 0 && implicitStart && items[0]?.s === -1) || (i + 2 === bounds.length && implicitEnd && items[items.length - 1]?.s === sk.length);
      if (fragmentEdge && newCodeAtFragmentEdge(inner, oa + 1, ob, i === 0 ? 'start' : 'end')) flagFragmentEdge(inner, oa + 1, ob);
      else if (moved.has(i) && !shownDeletion(i)) flagMovedDeletion(inner, oa + 1, ob);
      else if (!items.some((item) => item.marker) && deletedLines(inner, oa + 1, ob) > SMALL_DELETION && (islandBound(i, -1) || islandBound(i + 1, 1))) flagIslandDeletion(inner, oa + 1, ob);
      else resolveGap(items, oa + 1, ob);
      if (i + 2 < bounds.length) emitAnchor(sb, ob);
    }

    /** Whether the code at a sketch edge (after its last marker) pairs line for line with the document's edge. */
    function edgeRunMatches(inner: Item[], side: 'start' | 'end', bound: number): boolean {
      const run: number[] = [];
      if (side === 'end') {
        for (let k = inner.length - 1; k >= 0 && !inner[k]!.marker; k--) run.unshift(inner[k]!.s);
      } else {
        for (let k = 0; k < inner.length && !inner[k]!.marker; k++) run.push(inner[k]!.s);
      }
      const code = run.filter((s) => sk[s]!.trim() !== '');
      if (code.length === 0) return false;
      const paired = side === 'end' ? pairFromEnd(code, bound, doc.length) : pairFromStart(code, 0, bound);
      return paired.pairs.size === code.length && code.every((s) => squash(sk[s]!) === squash(doc[paired.pairs.get(s)!]!));
    }

    /** Document lines with something on them that replacing [lo, hi) by the sketch lines `inner` removes, net. */
    function deletedLines(inner: Item[], lo: number, hi: number): number {
      return nonBlank(lo, hi) - inner.filter((item) => sk[item.s]!.trim() !== '').length;
    }

    /**
     * Whether the anchor bounds[k] belongs to a short run of anchored lines (read away from the
     * gap, step -1 or 1) that new code surrounds: lines a new block copies from elsewhere in the
     * file anchor like that, and the lines between two such copies are not meant to be deleted.
     */
    function islandBound(k: number, step: -1 | 1): boolean {
      if (k <= 0 || k >= bounds.length - 1) return false;
      const { informative, end: j } = anchoredRun(k, step);
      if (informative >= ISLAND_RUN) return false;
      // The sketch line just beyond the run: new code (not a marker, not anchored) makes it an island.
      let t = bounds[j]![0] + step;
      while (t >= 0 && t < sk.length && sk[t]!.trim() === '') t += step;
      return t >= 0 && t < sk.length && !isMarker[t] && match[t]! < 0;
    }

    /** Lines with letters in the run of adjacent anchors from bounds[k] read away from a gap (step), and where it ends. */
    function anchoredRun(k: number, step: -1 | 1): { informative: number; end: number } {
      let informative = 0;
      let j = k;
      for (;;) {
        const [s, o] = bounds[j]!;
        if (!isTrivialLine(sk[s]!)) informative++;
        if (j + step <= 0 || j + step >= bounds.length - 1) break;
        const next = bounds[j + step]!;
        const adjacent = (step < 0 ? onlyBlank(next[0] + 1, s, next[1] + 1, o) : onlyBlank(s + 1, next[0], o + 1, next[1]));
        if (!adjacent) break;
        j += step;
      }
      return { informative, end: j };
    }

    /**
     * Whether the context on one side of gap i, less its first lines (after the gap) or last lines
     * (before it), is exactly the document's lines at that end of the gap: then those first (last)
     * lines may be new code that a unique twin elsewhere anchored, the rest of the context standing
     * right there, and the gap no deletion at all (`rv.close()` added before `finally:`).
     */
    function contextFitsGap(i: number): boolean {
      const keysOf = (from: number, to: number) => {
        const keys: string[] = [];
        for (let j = from; j <= to; j++) if (docKeys.loose[bounds[j]![1]] !== '') keys.push(docKeys.loose[bounds[j]![1]]!);
        return keys;
      };
      const docRun = (from: number, step: 1 | -1, count: number) => {
        const keys: string[] = [];
        for (let o = from; keys.length < count && o > bounds[i]![1] && o < bounds[i + 1]![1]; o += step) if (docKeys.loose[o] !== '') keys.push(docKeys.loose[o]!);
        return keys;
      };
      const after = keysOf(i + 1, anchoredRun(i + 1, 1).end);
      for (let k = 1; k < after.length; k++) {
        const rest = after.slice(k);
        if (rest.join('\n') === docRun(bounds[i]![1] + 1, 1, rest.length).join('\n')) return true;
      }
      const before = keysOf(anchoredRun(i, -1).end, i);
      for (let k = 1; k < before.length; k++) {
        const rest = before.slice(0, before.length - k);
        if (rest.join('\n') === docRun(bounds[i + 1]![1] - 1, -1, rest.length).reverse().join('\n')) return true;
      }
      return false;
    }

    function runInformative(k: number, step: -1 | 1): number {
      return k <= 0 || k >= bounds.length - 1 ? 0 : anchoredRun(k, step).informative;
    }

    /**
     * Gaps without a marker whose deletion removes a line with letters that the sketch shows, as
     * new code, in another gap (and that gap's document lines do not have it), or anchored
     * elsewhere as context: the alignment took new code that copies existing lines for those
     * lines, and deleting here while a copy shows there is how that mistake looks. Real moves, and
     * deleting one of two identical blocks, are declined with it.
     */
    function movedDeletions(all: Array<[number, number]>): Set<number> {
      const gapOfNew = new Map<string, number[]>();
      for (let i = 0; i + 1 < all.length; i++) {
        for (let t = all[i]![0] + 1; t < all[i + 1]![0]; t++) {
          if (isMarker[t] || isTrivialLine(sk[t]!)) continue;
          const key = squash(sk[t]!);
          gapOfNew.set(key, [...(gapOfNew.get(key) ?? []), i]);
        }
      }
      // Lines the sketch anchored elsewhere count too: a deleted twin of a line the sketch shows
      // as context is the same mistake seen from the other side.
      const anchoredKeys = new Set<string>();
      for (const [t] of all) if (t >= 0 && t < sk.length && !isTrivialLine(sk[t]!)) anchoredKeys.add(squash(sk[t]!));
      const suspects = new Set<number>();
      if (gapOfNew.size === 0 && anchoredKeys.size === 0) return suspects;
      const inGap = (i: number, key: string) => {
        for (let o = all[i]![1] + 1; o < all[i + 1]![1]; o++) if (docKeys.loose[o] === key) return true;
        return false;
      };
      for (let i = 0; i + 1 < all.length; i++) {
        // The ends of a fragment are elided implicitly: nothing there is deleted.
        let marker = (i === 0 && implicitStart) || (i + 2 === all.length && implicitEnd);
        for (let t = all[i]![0] + 1; t < all[i + 1]![0]; t++) if (isMarker[t]) marker = true;
        if (marker) continue;
        for (let o = all[i]![1] + 1; o < all[i + 1]![1]; o++) {
          const key = docKeys.loose[o]!;
          const gaps = gapOfNew.get(key);
          if ((!gaps && !anchoredKeys.has(key)) || isTrivialLine(doc[o]!)) continue;
          if (anchoredKeys.has(key) || gaps!.some((g) => g !== i && !inGap(g, key))) {
            suspects.add(i);
            break;
          }
        }
      }
      return suspects;
    }

    function flagMovedDeletion(inner: Item[], lo: number, hi: number): void {
      emitOriginal(lo, hi);
      const run = inner.map((item) => item.s);
      const at = run[0] ?? 0;
      unresolved.push({
        kind: 'ambiguous',
        message: `The sketch would delete document lines ${lo + 1}-${hi} and show some of them again as new code elsewhere: it probably copies existing lines into new code, and the anchors went to the copies' originals; the lines were kept. Include more unchanged lines around the change.`,
        sketchStart: at,
        sketchEnd: run.length > 0 ? run[run.length - 1]! + 1 : at,
        text: regionText(run),
        nearest: [{ startLine: lo, endLine: hi, text: doc.slice(lo, Math.min(hi, lo + 10)).join('\n'), similarity: 0 }],
      });
    }

    /**
     * A fragment (no markers) whose edge is new code that pairs with none of the document lines
     * beyond its last anchor: whether those document lines stay after the new code or are what it
     * replaces cannot be told (a fragment normally ends on unchanged context).
     */
    function newCodeAtFragmentEdge(inner: Item[], lo: number, hi: number, side: 'start' | 'end'): boolean {
      const code = inner.map((item) => item.s).filter((t) => sk[t]!.trim() !== '');
      if (code.length === 0 || nonBlank(lo, hi) === 0) return false;
      const { pairs } = side === 'end' ? pairFromStart(code, lo, hi) : pairFromEnd(code, lo, hi);
      return pairs.size === 0;
    }

    function flagFragmentEdge(inner: Item[], lo: number, hi: number): void {
      emitOriginal(lo, hi);
      const run = inner.map((item) => item.s);
      unresolved.push({
        kind: 'ambiguous',
        message: `The sketch has no markers and ${lo === 0 ? 'starts' : 'ends'} with new code, so whether document lines ${lo + 1}-${hi} stay ${lo === 0 ? 'before' : 'after'} it or are what it replaces is unclear; they were kept. Show a line of unchanged code there, or mark elided code with \`// ... existing code ...\`.`,
        sketchStart: run[0] ?? 0,
        sketchEnd: run.length > 0 ? run[run.length - 1]! + 1 : 0,
        text: regionText(run),
        nearest: nearestLines(run.map((t) => sk[t]!), doc, lo, hi),
      });
    }

    function onlyBlank(sLo: number, sHi: number, oLo: number, oHi: number): boolean {
      for (let t = sLo; t < sHi; t++) if (sk[t]!.trim() !== '') return false;
      return nonBlank(oLo, oHi) === 0;
    }

    /** A deletion bounded by an island of anchors inside new code: keep the document's lines and report the sketch's. */
    function flagIslandDeletion(inner: Item[], lo: number, hi: number): void {
      emitOriginal(lo, hi);
      const run = inner.map((item) => item.s);
      const at = run[0] ?? bounds.find(([s]) => s >= 0 && match[s] === lo - 1)?.[0] ?? 0;
      unresolved.push({
        kind: 'ambiguous',
        message: `The sketch would delete document lines ${lo + 1}-${hi}, but the lines it anchors to beside them are a few lines surrounded by new code, which may copy a block found elsewhere in the file rather than mark where the change goes; they were kept. Include more unchanged lines around the change.`,
        sketchStart: at,
        sketchEnd: run.length > 0 ? run[run.length - 1]! + 1 : at,
        text: regionText(run),
        nearest: [{ startLine: lo, endLine: hi, text: doc.slice(lo, Math.min(hi, lo + 10)).join('\n'), similarity: 0 }],
      });
    }

    function nonBlank(from: number, to: number): number {
      let count = 0;
      for (let o = from; o < to; o++) if (docKeys.loose[o] !== '') count++;
      return count;
    }

    /** The sketch uses markers but not at this end, which would delete many unshown lines: keep them and say so. */
    function flagUnshownEdge(from: number, to: number, sketchLine: number): void {
      const where = from === 0 ? 'start' : 'end';
      unresolved.push({
        kind: 'ambiguous',
        message: `The sketch does not show document lines ${from + 1}-${to} at its ${where} and has no marker there, so whether they are deleted or unchanged is unclear; they were kept. To delete them, send the file's ${where} without them; to keep them, put a marker at the ${where}.`,
        sketchStart: sketchLine,
        sketchEnd: sketchLine,
        text: '',
        nearest: [{ startLine: from, endLine: to, text: doc.slice(from, Math.min(to, from + 10)).join('\n'), similarity: 0 }],
      });
    }

    function resolveGap(items: Item[], lo: number, hi: number): void {
      if (!items.some((item) => item.marker)) {
        emitSketch(items.map((item) => item.s));
        return;
      }
      // Runs of code separated by markers.
      const runs: number[][] = [[]];
      for (const item of items) {
        if (item.marker) runs.push([]);
        else runs[runs.length - 1]!.push(item.s);
      }
      const isBlankRun = (run: number[]) => run.every((s) => sk[s]!.trim() === '');
      const head = runs[0]!;
      const tail = runs.length > 1 ? runs[runs.length - 1]! : [];
      for (const run of runs.slice(1, -1)) {
        if (!isBlankRun(run)) unresolved.push(floatingRegion(run, lo, hi));
      }
      let headCovered = 0;
      let headPairs: Map<number, number> | undefined;
      if (!isBlankRun(head)) {
        const { covered, pairs } = pairFromStart(head, lo, hi);
        const inserted = head.filter((s) => !pairs.has(s));
        if (resemblesInside(inserted, lo + covered, hi, 'after') || !pairsAreClear(pairs, lo, hi) || closesOutside(inserted.map((s) => sk[s]!))) {
          const placed = placeByContext(head, lo, hi, 'after');
          if (placed) [headCovered, headPairs] = [placed.end - lo, placed.pairs];
          else unresolved.push(boundaryRegion(head, lo, hi, 'after'));
        } else [headCovered, headPairs] = [covered, pairs];
      }
      let tailCovered = 0;
      let tailPairs: Map<number, number> | undefined;
      if (!isBlankRun(tail)) {
        const { covered, pairs } = pairFromEnd(tail, lo + headCovered, hi);
        const inserted = tail.filter((s) => !pairs.has(s));
        if (resemblesInside(inserted, lo + headCovered, hi - covered, 'before') || !pairsAreClear(pairs, lo, hi) || closesOutside(inserted.map((s) => sk[s]!))) {
          const placed = placeByContext(tail, lo + headCovered, hi, 'before');
          if (placed) [tailCovered, tailPairs] = [hi - placed.start, placed.pairs];
          else unresolved.push(boundaryRegion(tail, lo, hi, 'before'));
        } else [tailCovered, tailPairs] = [covered, pairs];
      }
      if (headPairs) emitPaired(head, headPairs);
      emitOriginal(lo + headCovered, hi - tailCovered);
      if (tailPairs) emitPaired(tail, tailPairs);
    }

    /**
     * A run beside a marker that the usual pairing cannot place for certain, placed instead by the
     * unchanged context line it shows beside the marker (run-placement.ts): the nearest place
     * where that context makes the smallest literal edit up to the anchor.
     */
    function placeByContext(run: number[], lo: number, hi: number, side: 'after' | 'before'): { start: number; end: number; pairs: Map<number, number> } | undefined {
      const placed = placeRunByContext(run.map((s) => squash(sk[s]!)), docKeys.loose, lo, hi, side === 'after' ? 'after' : 'before', AMBIGUITY_WINDOW);
      if (!placed) return undefined;
      const pairs = new Map<number, number>();
      for (const [k, o] of placed.matches) pairs.set(run[k]!, o);
      return { start: placed.start, end: placed.end, pairs };
    }

    /** Sketch lines; a paired one that differs from its document line only in whitespace is the document's line. */
    function emitPaired(run: number[], pairs: Map<number, number>): void {
      for (const s of run) {
        const o = pairs.get(s);
        if (o !== undefined && squash(sk[s]!) === squash(doc[o]!) && reindent.render(sk[s]!).trimEnd() === doc[o]!.trimEnd()) emitOriginal(o, o + 1);
        else emitSketch([s]);
      }
    }

    /**
     * Walks a run of sketch lines against the document lines at the boundary it touches: each line
     * either pairs with the next document line (equal ignoring whitespace, or a visible
     * modification of it; a line without letters pairs only when identical once re-indented), or
     * is new. Document lines are never skipped: dropping lines beside a marker would be a guess.
     */
    function pairFromStart(run: number[], lo: number, hi: number): { covered: number; pairs: Map<number, number> } {
      const pairs = new Map<number, number>();
      let cursor = lo;
      for (const s of run) {
        if (cursor < hi && pairsWith(s, cursor)) pairs.set(s, cursor++);
      }
      return { covered: cursor - lo, pairs };
    }

    function pairFromEnd(run: number[], lo: number, hi: number): { covered: number; pairs: Map<number, number> } {
      const pairs = new Map<number, number>();
      let cursor = hi - 1;
      for (let i = run.length - 1; i >= 0; i--) {
        const s = run[i]!;
        if (cursor >= lo && pairsWith(s, cursor)) pairs.set(s, cursor--);
      }
      return { covered: hi - 1 - cursor, pairs };
    }

    function pairsWith(s: number, o: number): boolean {
      const mine = sk[s]!;
      const theirs = doc[o]!;
      if (mine.trim() === '' || theirs.trim() === '') return mine.trim() === theirs.trim();
      if (isTrivialLine(mine) || isTrivialLine(theirs)) return reindent.render(mine).trimEnd() === theirs.trimEnd();
      return lineSimilarity(mine, theirs) >= REPLACE_SIMILARITY;
    }

    /** Each modified line must resemble its partner at least as much as any other line near it in the region. */
    function pairsAreClear(pairs: Map<number, number>, lo: number, hi: number): boolean {
      for (const [s, o] of pairs) {
        const line = sk[s]!;
        if (isTrivialLine(line) || squash(line) === squash(doc[o]!)) continue;
        const mine = profile(line);
        const own = profileSimilarity(mine, docProfiles.get(o));
        for (let other = Math.max(lo, o - AMBIGUITY_WINDOW); other < Math.min(hi, o + AMBIGUITY_WINDOW); other++) {
          if (other === o || maxSimilarity(mine, docKeys.loose[other]!) <= own + 0.01) continue;
          if (profileSimilarity(mine, docProfiles.get(other)) > own + 0.01) return false;
        }
      }
      return true;
    }

    /** Whether a line about to be inserted looks like a modified copy of a line in the elided range near the boundary it sits at. */
    function resemblesInside(run: number[], lo: number, hi: number, side: 'after' | 'before'): boolean {
      const from = side === 'after' ? lo : Math.max(lo, hi - AMBIGUITY_WINDOW);
      const to = side === 'after' ? Math.min(hi, lo + AMBIGUITY_WINDOW) : hi;
      for (const s of run) {
        const line = sk[s]!;
        if (isTrivialLine(line)) continue;
        const mine = profile(line);
        for (let o = from; o < to; o++) {
          // Most lines differ too much in length to be alike: skip building their profiles.
          if (maxSimilarity(mine, docKeys.loose[o]!) < AMBIGUOUS_SIMILARITY) continue;
          if (profileSimilarity(mine, docProfiles.get(o)) >= AMBIGUOUS_SIMILARITY) return true;
        }
      }
      return false;
    }

    function regionText(run: number[]): string {
      return run.map((s) => sk[s]!).join('\n');
    }

    function floatingRegion(run: number[], lo: number, hi: number): UnresolvedRegion {
      const lines = run.map((s) => sk[s]!);
      const repeated = lines.some((line) => !isTrivialLine(line) && countIn(doc, lo, hi, line) > 1);
      return {
        kind: repeated ? 'ambiguous' : 'unanchored',
        message: repeated
          ? `Sketch lines ${run[0]! + 1}-${run[run.length - 1]! + 1} match several places inside an elided region (document lines ${lo + 1}-${hi}); add a unique surrounding line so they can be placed.`
          : `Sketch lines ${run[0]! + 1}-${run[run.length - 1]! + 1} sit between two elision markers and match no document line, so where they go is unknown; include a line of unchanged code next to them.`,
        sketchStart: run[0]!,
        sketchEnd: run[run.length - 1]! + 1,
        text: regionText(run),
        nearest: nearestLines(lines, doc, lo, hi),
      };
    }

    function boundaryRegion(run: number[], lo: number, hi: number, side: 'after' | 'before'): UnresolvedRegion {
      const lines = run.map((s) => sk[s]!);
      const where = side === 'after' ? (lo > 0 ? `after document line ${lo}` : 'at the start of the document') : hi < doc.length ? `before document line ${hi + 1}` : 'at the end of the document';
      return {
        kind: 'ambiguous',
        message: `Sketch lines ${run[0]! + 1}-${run[run.length - 1]! + 1} could be new code ${where}, or a change to similar lines inside the elided region (document lines ${lo + 1}-${hi}); include the unchanged lines around the change.`,
        sketchStart: run[0]!,
        sketchEnd: run[run.length - 1]! + 1,
        text: regionText(run),
        nearest: nearestLines(lines, doc, lo, hi),
      };
    }

    const text = out.map((line, i) => line.text + (i + 1 < out.length ? line.eol || eol : endsWithEol(original) ? line.eol || eol : '')).join('');
    // Anchors that the longest chain chose over unique lines it dropped, where the two disagree.
    const conflicts = anchors
      .filter(([s, o]) => dropped.some(([ds, dO]) => match[ds]! < 0 && ((s < ds && o > dO) || (s > ds && o < dO))))
      .map(([s]) => s);
    return { result: { text, unresolved, anchors: anchors.length, markers: markerCount }, conflicts, match };

  }
}

/** One reading of a sketch: its merge, the anchors it used, and those the longest chain chose over disagreeing unique lines. */
interface Reading {
  result: MergeResult;
  conflicts: number[];
  match: Int32Array;
}

interface Item {
  marker: boolean;
  /** Sketch line; -1 and sketch length for the implicit markers at the ends. */
  s: number;
}

function endsWithEol(text: string): boolean {
  return text.length === 0 || /[\r\n]$/.test(text);
}

function countIn(lines: readonly string[], lo: number, hi: number, line: string): number {
  const key = squash(line);
  let count = 0;
  for (let o = lo; o < hi; o++) if (squash(lines[o]!) === key) count++;
  return count;
}

/** Models wrap code in ``` fences; drop them unless the document itself starts with one. */
function stripCodeFence(lines: string[], doc: readonly string[]): string[] {
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first < 0 || !/^\s*```[\w+#.-]*\s*$/.test(lines[first]!) || /^\s*```/.test(doc[0] ?? '')) return lines;
  let last = lines.length - 1;
  while (last > first && lines[last]!.trim() === '') last--;
  if (last > first && /^\s*```\s*$/.test(lines[last]!)) return lines.slice(first + 1, last);
  return lines.slice(first + 1);
}

function codeBlockAround(sk: readonly string[], isMarker: readonly boolean[], start: number): number[] {
  const block: number[] = [];
  for (let s = Math.max(0, start); s < sk.length && !isMarker[s] && block.length < 8; s++) block.push(s);
  return block;
}

/** Document windows most like `lines`, best first (at most three, not overlapping). */
export function nearestLines(lines: readonly string[], doc: readonly string[], lo: number, hi: number, limit = 3): NearLines[] {
  const probe = lines.map((line, i) => [line, i] as const).filter(([line]) => !isTrivialLine(line));
  if (probe.length === 0 || hi <= lo) return [];
  const [key, keyIndex] = probe.reduce((best, item) => (squash(item[0]).length > squash(best[0]).length ? item : best));
  const scored: Array<{ o: number; score: number }> = [];
  const scanEnd = Math.min(hi, lo + 50_000);
  for (let o = lo; o < scanEnd; o++) {
    const score = lineSimilarity(key, doc[o]!);
    if (score > 0.3) scored.push({ o, score });
  }
  scored.sort((a, b) => b.score - a.score || a.o - b.o);
  const picked: NearLines[] = [];
  for (const { o } of scored) {
    const startLine = Math.max(lo, o - keyIndex);
    const endLine = Math.min(hi, startLine + Math.max(1, lines.length));
    if (picked.some((p) => startLine < p.endLine && p.startLine < endLine)) continue;
    let total = 0;
    for (let i = 0; i < endLine - startLine; i++) total += lineSimilarity(lines[i] ?? '', doc[startLine + i]!);
    picked.push({ startLine, endLine, text: doc.slice(startLine, endLine).join('\n'), similarity: round(total / Math.max(1, lines.length)) });
    if (picked.length >= limit) break;
  }
  return picked.sort((a, b) => b.similarity - a.similarity);
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Patience alignment of sketch lines to document lines. Returns, for each sketch line, the
 * document line it is anchored to, or -1. Markers never anchor.
 */
export function alignLines(
  sk: readonly string[],
  isMarker: readonly boolean[],
  doc: readonly string[],
  banned: ReadonlySet<number> = new Set(),
  /** Receives the unique pairs the longest chains left out. */
  dropped?: Array<[number, number]>,
  /** The document's keys when already computed (documentKeys(doc)). */
  keys: DocumentKeys = documentKeys(doc),
): Int32Array {
  const match = new Int32Array(sk.length).fill(-1);
  const skExact = sk.map((line) => line.trimEnd());
  const skLoose = sk.map(squash);
  const { exact: docExact, loose: docLoose } = keys;
  const skTrivial = sk.map(isTrivialLine);
  const equalAt = (s: number, o: number) => !isMarker[s] && !banned.has(s) && (skExact[s] === docExact[o] || (skLoose[s] !== '' && skLoose[s] === docLoose[o]));

  // An explicit stack instead of recursion: gaps can nest deeply in long files.
  const stack: Array<[number, number, number, number]> = [[0, sk.length, 0, doc.length]];
  while (stack.length > 0) {
    let [sLo, sHi, oLo, oHi] = stack.pop()!;
    // At the outer ends there is no anchor to extend from: a fragment ending in `}` must not
    // anchor to the `}` that ends the file, so there only lines that say something match.
    const atStart = sLo === 0 && oLo === 0;
    const atEnd = sHi === sk.length && oHi === doc.length;
    while (sLo < sHi && oLo < oHi && equalAt(sLo, oLo) && !(atStart && skTrivial[sLo])) match[sLo++] = oLo++;
    while (sLo < sHi && oLo < oHi && equalAt(sHi - 1, oHi - 1) && !(atEnd && skTrivial[sHi - 1])) match[--sHi] = --oHi;
    if (sLo >= sHi || oLo >= oHi) continue;
    // Unique must mean unique ignoring whitespace too: a line whose respaced twin sits elsewhere
    // (the sketch fixing spacing in one of two copies) would otherwise pull the anchor there.
    const looseUnique = uniquePairs(skLoose, docLoose, sLo, sHi, oLo, oHi);
    const looseOk = new Set(looseUnique.map(([s]) => s));
    let pairs = uniquePairs(skExact, docExact, sLo, sHi, oLo, oHi).filter(([s]) => looseOk.has(s));
    if (pairs.length === 0) pairs = looseUnique;
    // No line unique on its own: runs of two, then three, consecutive lines that are unique together.
    for (let size = 2; pairs.length === 0 && size <= 3; size++) pairs = uniqueBlocks(size, sLo, sHi, oLo, oHi);
    if (pairs.length === 0) continue;
    const chain = longestIncreasing(pairs);
    if (dropped && chain.length < pairs.length) {
      const kept = new Set(chain.map(([s]) => s));
      for (const pair of pairs) if (!kept.has(pair[0])) dropped.push(pair);
    }
    let [ps, po] = [sLo - 1, oLo - 1];
    for (const [s, o] of chain) {
      match[s] = o;
      stack.push([ps + 1, s, po + 1, o]);
      [ps, po] = [s, o];
    }
    stack.push([ps + 1, sHi, po + 1, oHi]);
  }
  return match;

  /** Pairs for every line of the blocks of `size` lines that occur once in both ranges (exact text). */
  function uniqueBlocks(size: number, sLo: number, sHi: number, oLo: number, oHi: number): Array<[number, number]> {
    const usable = (s: number) => !isMarker[s] && !banned.has(s) && skExact[s] !== '';
    const inSketch = new Map<string, number>();
    for (let s = sLo; s + size <= sHi; s++) {
      let ok = true;
      let informative = false;
      for (let k = 0; k < size && ok; k++) {
        ok = usable(s + k);
        if (!skTrivial[s + k]) informative = true;
      }
      if (!ok || !informative) continue;
      const key = skExact.slice(s, s + size).join('\u0000');
      inSketch.set(key, inSketch.has(key) ? -1 : s);
    }
    if (inSketch.size === 0) return [];
    // Only a document line that starts some sketch block can start a match: test it before building a key.
    const starts = new Set<string>();
    for (const key of inSketch.keys()) starts.add(key.slice(0, key.indexOf('\u0000')));
    const inDoc = new Map<string, number>();
    for (let o = oLo; o + size <= oHi; o++) {
      if (!starts.has(docExact[o]!)) continue;
      const key = docExact.slice(o, o + size).join('\u0000');
      if (inSketch.has(key)) inDoc.set(key, inDoc.has(key) ? -1 : o);
    }
    const pairs = new Map<number, number>();
    for (const [key, s] of inSketch) {
      const o = inDoc.get(key);
      if (s < 0 || o === undefined || o < 0) continue;
      for (let k = 0; k < size; k++) if (!pairs.has(s + k)) pairs.set(s + k, o + k);
    }
    return [...pairs].sort((a, b) => a[0] - b[0]);
  }

  function uniquePairs(skKeys: readonly string[], docKeys: readonly string[], sLo: number, sHi: number, oLo: number, oHi: number): Array<[number, number]> {
    const inSketch = new Map<string, number>();
    for (let s = sLo; s < sHi; s++) {
      if (isMarker[s] || skTrivial[s] || banned.has(s) || skKeys[s] === '') continue;
      const key = skKeys[s]!;
      inSketch.set(key, inSketch.has(key) ? -1 : s);
    }
    if (inSketch.size === 0) return [];
    const inDoc = new Map<string, number>();
    for (let o = oLo; o < oHi; o++) {
      const key = docKeys[o]!;
      if (!inSketch.has(key)) continue;
      inDoc.set(key, inDoc.has(key) ? -1 : o);
    }
    const pairs: Array<[number, number]> = [];
    for (const [key, s] of inSketch) {
      const o = inDoc.get(key);
      if (s >= 0 && o !== undefined && o >= 0) pairs.push([s, o]);
    }
    return pairs.sort((a, b) => a[0] - b[0]);
  }
}

/** A document's lines as alignment compares them: without trailing whitespace, and without any. */
export interface DocumentKeys {
  exact: string[];
  loose: string[];
}

export function documentKeys(doc: readonly string[]): DocumentKeys {
  return { exact: doc.map((line) => line.trimEnd()), loose: doc.map(squash) };
}

/** Longest chain of pairs increasing in both coordinates (pairs sorted by the first). */
export function longestIncreasing(pairs: ReadonlyArray<[number, number]>): Array<[number, number]> {
  const tails: number[] = [];
  const previous = new Int32Array(pairs.length).fill(-1);
  for (let i = 0; i < pairs.length; i++) {
    const o = pairs[i]![1];
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (pairs[tails[mid]!]![1] < o) low = mid + 1;
      else high = mid;
    }
    if (low > 0) previous[i] = tails[low - 1]!;
    tails[low] = i;
  }
  const chain: Array<[number, number]> = [];
  for (let i = tails.length ? tails[tails.length - 1]! : -1; i >= 0; i = previous[i]!) chain.push(pairs[i]!);
  return chain.reverse();
}

/**
 * Anchors that jump over document lines the sketch itself shows elsewhere (unanchored) are in the
 * wrong place: typically new code that copies a unique block found elsewhere in the file. With
 * no marker between two anchors, the lines skipped would be deleted; if one of them is also a
 * sketch line still looking for its place, the block on that line's side is misplaced.
 */
function misplacedBlocks(sk: readonly string[], isMarker: readonly boolean[], doc: readonly string[], match: Int32Array): number[] {
  const unanchored = new Map<string, number[]>();
  for (let s = 0; s < sk.length; s++) {
    if (match[s]! >= 0 || isMarker[s] || isTrivialLine(sk[s]!)) continue;
    const key = squash(sk[s]!);
    unanchored.set(key, [...(unanchored.get(key) ?? []), s]);
  }
  if (unanchored.size === 0) return [];
  const anchored: number[] = [];
  for (let s = 0; s < sk.length; s++) if (match[s]! >= 0) anchored.push(s);
  for (let k = 0; k + 1 < anchored.length; k++) {
    const sa = anchored[k]!;
    const sb = anchored[k + 1]!;
    const oa = match[sa]!;
    const ob = match[sb]!;
    if (ob - oa - 1 <= sb - sa - 1) continue;
    let markerBetween = false;
    for (let s = sa + 1; s < sb; s++) if (isMarker[s]) markerBetween = true;
    if (markerBetween) continue;
    for (let o = oa + 1; o < ob; o++) {
      const seen = unanchored.get(squash(doc[o]!));
      if (!seen || isTrivialLine(doc[o]!)) continue;
      // The skipped line is shown after the jump: the block after it is early; before: the block before is late.
      const block: number[] = [];
      if (seen.some((s) => s > sb)) {
        for (let s = sb; s < sk.length && match[s]! >= 0 && match[s] === ob + (s - sb); s++) block.push(s);
      } else {
        for (let s = sa; s >= 0 && match[s]! >= 0 && match[s] === oa - (sa - s); s--) block.push(s);
      }
      return block;
    }
  }
  return [];
}

/**
 * An anchor with unanchored code on both sides that resembles neither document neighbour is most
 * likely a common line inside new code (`return result;`) that happens to be unique in the
 * document; anchoring it would split the new code around an unrelated place.
 */
function demoteIsolatedAnchors(sk: readonly string[], isMarker: readonly boolean[], doc: readonly string[], match: Int32Array): number[] {
  const demoted: number[] = [];
  const neighbour = (s: number, step: number) => {
    let t = s + step;
    while (t >= 0 && t < sk.length && sk[t]!.trim() === '') t += step;
    return t >= 0 && t < sk.length ? t : -1;
  };
  for (let s = 0; s < sk.length; s++) {
    const o = match[s]!;
    if (o < 0) continue;
    const before = neighbour(s, -1);
    const after = neighbour(s, 1);
    if (before < 0 || after < 0) continue;
    if (isMarker[before] || isMarker[after] || match[before]! >= 0 || match[after]! >= 0) continue;
    const likeBefore = o > 0 && lineSimilarity(sk[before]!, doc[o - 1]!) >= 0.5;
    const likeAfter = o + 1 < doc.length && lineSimilarity(sk[after]!, doc[o + 1]!) >= 0.5;
    if (!likeBefore && !likeAfter) {
      match[s] = -1;
      demoted.push(s);
    }
  }
  return demoted;
}

/** Fewer unresolved regions first, then fewer changed lines; the first on a tie. */
function preferred(a: MergeResult, b: MergeResult, original: string): MergeResult {
  if (b.refusal) return a;
  if (a.unresolved.length !== b.unresolved.length) return a.unresolved.length < b.unresolved.length ? a : b;
  const changed = (result: MergeResult) => diffTexts(original, result.text).reduce((sum, hunk) => sum + (hunk.oldEnd - hunk.oldStart) + (hunk.newEnd - hunk.newStart), 0);
  return changed(b) < changed(a) ? b : a;
}
