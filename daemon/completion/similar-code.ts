// The builtin completion engine: continue the current line the way the most similar code in the
// workspace continues it. Candidates are lines that start with what the user typed on this line
// (or, on an empty line, lines that follow a line equal to the one above the cursor); each is
// scored by how much context it shares with the cursor (matching lines above, same file, nearby);
// continuations vote with their scores. The winner is shown only when it clearly wins and the
// shared context is long enough: silence beats a wrong guess.
import { DocumentLineIndex, headOf, type IndexableDocument, type IndexedLine, wordKey } from './line-index.js';
import { CLOSERS, isWordChar, OPENERS, openBrackets, openQuote, tokenize, tokenSpans } from './text.js';

export interface SimilarCodeOptions {
  /** Build indexes of documents other than the current one synchronously (tests, benchmarks). */
  eager?: boolean;
  /** Most candidates weighed per request. */
  maxCandidates?: number;
  /** Most indexed lines checked per request. */
  maxScan?: number;
}

export interface SimilarCodeQuery {
  document: IndexableDocument;
  /** Cursor offset in `document.text`. */
  offset: number;
  /** Other documents to draw from (open in any editor), most relevant first. */
  others: readonly IndexableDocument[];
  /**
   * Code a search found (index snippets), not code the user has open: a continuation only these
   * support is held to a higher bar (LOOKED_UP_FACTOR).
   */
  lookedUp?: readonly IndexableDocument[];
}

export interface SimilarCodeAnswer {
  /** Rest of the line (and, on an empty line, the line) to insert at the cursor. */
  text: string;
  confidence: number;
  /** Where the winning continuation was found. */
  source: { uri: string; line: number };
  /** What the confidence was made of (diagnostics). */
  detail: { share: number; context: number; votes: number; candidates: number; tailMatched: boolean; tailTokens: number; tailElsewhere: boolean; sameDocument: boolean; distance: number };
}

const CONTEXT_WEIGHT = 8;
/**
 * Confidence kept by a continuation that only looked-up code (index snippets) supports: such a
 * line comes from a file found by the typed words alone, related to this one far less often than
 * the files open beside it (in the replay with the index, the answers index snippets added where
 * the engine had been silent were right one time in five).
 */
export const LOOKED_UP_FACTOR = 0.8;
/** How far (in lines) a sibling of the same shape is looked for. */
const SIBLING_SPAN = 8;

interface Candidate {
  index: DocumentLineIndex;
  line: IndexedLine;
  continuation: string;
  weight: number;
  context: number;
}

export class SimilarCodeEngine {
  private readonly indexes = new Map<string, DocumentLineIndex>();
  private readonly pending = new Set<string>();
  private readonly eager: boolean;
  private readonly maxCandidates: number;
  private readonly maxScan: number;

  constructor(options: SimilarCodeOptions = {}) {
    this.eager = options.eager ?? false;
    this.maxCandidates = options.maxCandidates ?? 4000;
    this.maxScan = options.maxScan ?? 6000;
  }

  complete(query: SimilarCodeQuery): SimilarCodeAnswer | null {
    const current = this.indexFor(query.document, true)!;
    const text = query.document.text;
    const lineStart = text.lastIndexOf('\n', query.offset - 1) + 1;
    const lineEndRaw = text.indexOf('\n', query.offset);
    const lineEnd = lineEndRaw < 0 ? text.length : lineEndRaw;
    const linePrefix = text.slice(lineStart, query.offset);
    const lineSuffix = text.slice(query.offset, lineEnd).trim();
    // Mid-line with real text after the cursor: a line continuation would not fit.
    if (lineSuffix && !/^[)\]}"'`;,]*$/.test(lineSuffix)) return null;
    const cursorLine = current.lineAtOffset(lineStart);
    const typed = linePrefix.trimStart();
    const above = [current.neighbour(cursorLine, -1), undefined, undefined] as Array<IndexedLine | undefined>;
    if (above[0]) above[1] = current.neighbour(above[0].no, -1);
    if (above[1]) above[2] = current.neighbour(above[1].no, -1);

    const sources: DocumentLineIndex[] = [current];
    const lookedUp = new Set<DocumentLineIndex>();
    const addSource = (other: IndexableDocument, found: boolean) => {
      if (other.uri === query.document.uri || other.languageId !== query.document.languageId) return;
      const index = this.indexFor(other, this.eager);
      if (!index) return;
      sources.push(index);
      if (found) lookedUp.add(index);
    };
    for (const other of query.others) addSource(other, false);
    for (const other of query.lookedUp ?? []) addSource(other, true);

    const candidates: Candidate[] = [];
    const consider = (index: DocumentLineIndex, line: IndexedLine, from?: number, partial = 1, orNothing = false) => {
      if (index === current && line.no === cursorLine) return;
      if (from === undefined && (!line.trimmed.startsWith(typed) || line.trimmed.length <= typed.length)) return;
      const continuation = line.trimmed.slice(from ?? typed.length);
      // A line that ends where ours would is a vote for showing nothing.
      if (!continuation && !orNothing) return;
      // A tail match's line had its own text before the tail: its closing brackets must fit ours.
      if (from !== undefined && !bracketsFit(line.trimmed.slice(0, from), typed, continuation)) return;
      let context = 0;
      let mine: IndexedLine | undefined = line;
      for (const want of above) {
        mine = mine ? index.neighbour(mine.no, -1) : undefined;
        if (!want || !mine || mine.trimmed !== want.trimmed) break;
        context++;
      }
      // Each matching line above multiplies the weight: one candidate that shares the context
      // outvotes many that merely start the same way.
      let weight = CONTEXT_WEIGHT ** context * partial;
      if (index === current) weight *= 1.5 + 1 / (1 + Math.abs(line.no - cursorLine) / 40);
      candidates.push({ index, line, continuation, weight, context });
    };

    // Lines are checked within a budget, the current document first: a keystroke's cost stays
    // bounded however many documents are open.
    let budget = this.maxScan;
    const scan = (key: (index: DocumentLineIndex) => Iterable<IndexedLine> | undefined, visit: (index: DocumentLineIndex, line: IndexedLine) => void) => {
      for (const index of sources) {
        for (const line of key(index) ?? []) {
          if (budget-- <= 0) return;
          visit(index, line);
        }
      }
    };
    // Whether the candidates were found by structure (a block's kind, finished groups, a shape):
    // their evidence is the number of lines that agree.
    let structural = false;
    if (/^[)\]}]+\s*$/.test(typed)) {
      // A line that closes a block (`}`): how the blocks opened like this one (`try {`, `if (`)
      // close elsewhere: `} finally {`, `});`, or nothing more (a vote for silence).
      const opener = openerOf(current, cursorLine, leadingIndent(linePrefix));
      const key = opener && headOf(opener.trimmed);
      if (key && /^[A-Za-z_$]/.test(key)) {
        scan((index) => index.byHead.get(key!), (index, line) => {
          if (index === current && line.no === opener!.no) return;
          const closing = line.trimmed.endsWith(opener!.trimmed.slice(-1)) ? closingOf(index, line) : undefined;
          if (closing?.trimmed.startsWith(typed)) consider(index, closing, typed.length, 1, true);
        });
        structural = candidates.length > 0;
      }
    }
    const head = /^(?:[A-Za-z_$][\w$]*|\d+|\S)/.exec(typed)?.[0] ?? '';
    if (structural) {
      // The block's own kind decided.
    } else if (typed && head.length < typed.length) {
      // Lines that start with what was typed hold its words too: walk whichever list is shorter.
      const word = rarestWord(typed.slice(head.length), sources);
      scan((index) => narrowest(index.byHead.get(head), word, index), (index, line) => consider(index, line));
    } else if (typed.length >= 3) {
      scan((index) => index.byStart.get(typed.slice(0, 3)), (index, line) => consider(index, line));
    } else if (above[0] && isDistinctive(above[0].trimmed)) {
      // Empty (or nearly empty) line: what follows lines like the one above?
      scan((index) => index.byTrimmed.get(above[0]!.trimmed), (index, previous) => {
        const next = index.neighbour(previous.no, 1, 2);
        if (next) consider(index, next);
      });
    } else if (above[0] && above[1] && isDistinctive(above[1].trimmed)) {
      // The line above is a lone brace or keyword: what follows it where it follows the same
      // distinctive line?
      scan((index) => index.byTrimmed.get(above[1]!.trimmed), (index, earlier) => {
        const previous = index.neighbour(earlier.no, 1, 2);
        const next = previous?.trimmed === above[0]!.trimmed ? index.neighbour(previous.no, 1, 2) : undefined;
        if (next) consider(index, next);
      });
    }
    const closed = candidates.length === 0 && head.length < typed.length && /[)\]]$/.test(linePrefix) ? topLevelCloses(typed) : undefined;
    if (closed && closed.length > 0) {
      // The line typed ends where a finished expression does (`assert.equal(a, b)`): what follows
      // the same number of finished groups in lines with the same head (`;`, `.then(`, ` {`).
      scan((index) => index.byHead.get(head), (index, line) => {
        const theirs = topLevelCloses(line.trimmed);
        const end = theirs?.[closed.length - 1];
        if (end !== undefined) consider(index, line, end);
      });
      // Lines that disagree leave the tail matches below to decide.
      if (!agreed(candidates)) candidates.length = 0;
      structural = candidates.length > 0;
    }
    if (candidates.length === 0 && head.length < typed.length && !isCommentLine(linePrefix)) {
      // What follows the same shape (names, numbers and strings as placeholders, punctuation as
      // written) in lines with the same head; a name still being typed must be what theirs starts with.
      const mine = shapeOf(typed);
      const partial = /[\w$]+$/.exec(typed)?.[0];
      // Inside a string left open, shapes say nothing.
      if (!/["'`]/.test(mine)) scan((index) => index.byHead.get(head), (index, line) => {
        // Each line's shape is worked out once, then compared by prefix.
        if (!(line.shape ??= shapeOf(line.trimmed)).startsWith(mine)) return;
        const end = shapeEnd(line.trimmed, mine.length, /\s$/.test(typed), partial);
        if (end !== undefined) consider(index, line, end);
      });
      if (!agreed(candidates)) candidates.length = 0;
      structural = candidates.length > 0;
    }
    let tailMatched = false;
    let tailTokens = 0;
    let tailElsewhere = false;
    if (candidates.length === 0 && head.length < typed.length) {
      // No line starts like this one: match the last tokens typed instead (the longest tail of
      // four, three or two tokens found), within lines that start with the same token, else
      // within any line holding the tail's rarest word.
      const spans = tokenSpans(typed);
      const tails = [4, 3, 2]
        .filter((count) => spans.length > count)
        .map((count) => typed.slice(spans[spans.length - count]!.start))
        .filter((tail) => tail.trim().length >= 3);
      const shortest = tails[tails.length - 1];
      if (shortest) {
        const word = rarestWord(shortest, sources);
        const found = this.findTails(sources, current, cursorLine, tails, head, (index) => narrowest(index.byHead.get(head), word, index));
        const elsewhere = found.length === 0 && word ? this.findTails(sources, current, cursorLine, tails, '', (index) => index.byWord.get(word)) : [];
        for (const match of found.length > 0 ? found : elsewhere) consider(match.index, match.line, match.end, 0.5);
        tailMatched = candidates.length > 0;
        tailTokens = tokenize((found.length > 0 ? found : elsewhere)[0]?.tail ?? '').length;
        tailElsewhere = found.length === 0;
      }
    }
    if (candidates.length === 0 && isSiblingName(head) && typed.length - head.length >= 3) {
      // A sibling of the same shape nearby (`threads?: number;` above `kvCacheMiB?: n`): a line
      // of this document within a few lines whose text after its own first name starts with
      // what was typed after ours. Names only: a keyword starts another kind of statement
      // (`return route;` is not `var route = ...`).
      const rest = typed.slice(head.length);
      for (let no = Math.max(0, cursorLine - SIBLING_SPAN); no <= cursorLine + SIBLING_SPAN && no < current.lines.length; no++) {
        const line = current.lines[no]!;
        const theirs = headOf(line.trimmed);
        if (no === cursorLine || theirs === head || !isSiblingName(theirs) || !line.trimmed.startsWith(rest, theirs.length)) continue;
        consider(current, line, theirs.length + rest.length, 0.5);
      }
      tailMatched = candidates.length > 0;
      tailTokens = tokenize(rest).length;
    }
    if (candidates.length === 0 || candidates.length > this.maxCandidates * 4) return null;

    const { winner, total } = tally(candidates);
    if (!winner || !winner.best.continuation) return null;
    const share = winner.weight / total;
    const typedTokens = tokenize(typed).length;
    // A tail match is as strong as the tail it matched (two to four tokens); candidates found by
    // structure are as strong as the lines that agree (two agreeing lines show a short one).
    const evidence = structural
      ? agreement(winner)
      : (tailMatched ? tailTokens : typedTokens) + 2 * winner.best.context + Math.log2(1 + winner.count) - (typed ? 0 : 1);
    let confidence = share * Math.min(1, evidence / evidenceNeeded(tokenize(winner.best.continuation).length));
    // Prose in a comment rarely repeats word for word: without matching lines above it, a
    // comment's continuation is a guess, held to a higher bar.
    if (winner.best.context === 0 && isCommentLine(linePrefix)) confidence *= 0.8;
    if (lookedUp.size > 0 && candidates.every((c) => c.continuation !== winner.best.continuation || lookedUp.has(c.index))) confidence *= LOOKED_UP_FACTOR;
    let suggestion = winner.best.continuation;
    // A line that opens a block, well supported: bring the block along, as that code has it.
    if (!lineSuffix && confidence >= 0.8 && winner.best.context >= 1 && /[{(\[:]$/.test(suggestion)) {
      suggestion += blockAfter(winner.best.index, winner.best.line, leadingIndent(linePrefix));
    }
    return {
      text: suggestion,
      confidence,
      source: { uri: winner.best.index.uri, line: winner.best.line.no },
      detail: { share, context: winner.best.context, votes: winner.count, candidates: candidates.length, tailMatched, tailTokens, tailElsewhere, sameDocument: winner.best.index === current, distance: winner.best.index === current ? winner.best.line.no - cursorLine : Infinity },
    };
  }

  /**
   * Lines (from `linesOf` each source, within the scan budget) holding one of `tails` (longest
   * first) with text after it; with a `skip`, only lines whose head it is, and only after it.
   * Only the matches of the longest tail found are kept. `end` is where the continuation starts.
   */
  private findTails(
    sources: readonly DocumentLineIndex[],
    current: DocumentLineIndex,
    cursorLine: number,
    tails: readonly string[],
    skip: string,
    linesOf: (index: DocumentLineIndex) => Iterable<IndexedLine> | undefined,
  ): Array<{ index: DocumentLineIndex; line: IndexedLine; end: number; tail: string }> {
    const shortest = tails[tails.length - 1]!;
    const found: Array<{ index: DocumentLineIndex; line: IndexedLine; end: number; rank: number; tail: string }> = [];
    let bestRank = tails.length;
    let budget = this.maxScan;
    for (const index of sources) {
      for (const line of linesOf(index) ?? []) {
        if (budget-- <= 0) break;
        if (index === current && line.no === cursorLine) continue;
        if (line.trimmed.indexOf(shortest, skip.length) < 0) continue;
        // Lines listed by a word rather than by their head: keep those that start with `skip`.
        if (skip && headOf(line.trimmed) !== skip) continue;
        for (let rank = 0; rank < tails.length; rank++) {
          const at = line.trimmed.indexOf(tails[rank]!, skip.length);
          // A tail at the very end of the line has nothing to continue with.
          if (at < 0 || at + tails[rank]!.length >= line.trimmed.length) continue;
          found.push({ index, line, end: at + tails[rank]!.length, rank, tail: tails[rank]! });
          bestRank = Math.min(bestRank, rank);
          break;
        }
      }
      if (budget <= 0) break;
    }
    return found.filter((match) => match.rank === bestRank);
  }

  /** Keeps the indexes of these documents only (the others were closed). */
  retain(uris: ReadonlySet<string>): void {
    for (const uri of this.indexes.keys()) if (!uris.has(uri)) this.indexes.delete(uri);
  }

  /** Forgets a document's index (closed everywhere). */
  forget(uri: string): void {
    this.indexes.delete(uri);
  }

  /** Resolves once background index builds have run. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * The index of a document at its current version. The current document is always brought up
   * to date (incrementally); others are (re)built in the background unless `now` is set, and
   * skipped by this request: a keystroke never waits for another file's indexing.
   */
  private indexFor(document: IndexableDocument, now: boolean): DocumentLineIndex | undefined {
    let index = this.indexes.get(document.uri);
    if (index && index.version === document.version) return index;
    if (now) {
      if (!index) this.indexes.set(document.uri, (index = new DocumentLineIndex(document.uri, document.languageId)));
      index.update(document);
      return index;
    }
    if (!this.pending.has(document.uri)) {
      this.pending.add(document.uri);
      setImmediate(() => {
        this.pending.delete(document.uri);
        this.indexFor(document, true);
      });
    }
    return index;
  }
}

interface Vote {
  weight: number;
  best: Candidate;
  count: number;
}

/** Candidates' votes by continuation: the heaviest one, and the weight of all. */
function tally(candidates: readonly Candidate[]): { winner: Vote | undefined; total: number } {
  const votes = new Map<string, Vote>();
  let total = 0;
  for (const candidate of candidates) {
    total += candidate.weight;
    const vote = votes.get(candidate.continuation);
    if (!vote) votes.set(candidate.continuation, { weight: candidate.weight, best: candidate, count: 1 });
    else {
      vote.weight += candidate.weight;
      vote.count++;
      if (candidate.weight > vote.best.weight) vote.best = candidate;
    }
  }
  let winner: Vote | undefined;
  for (const vote of votes.values()) if (!winner || vote.weight > winner.weight) winner = vote;
  return { winner, total };
}

/** The evidence of lines that agree on what follows a structure (two agreeing lines are enough for a short one). */
const agreement = (vote: Vote) => 2 * vote.best.context + 2 * Math.log2(1 + vote.count);

/**
 * Whether candidates found by structure agree enough to be shown (at least two lines and most of
 * the weight); otherwise the next ways of finding candidates decide.
 */
function agreed(candidates: readonly Candidate[]): boolean {
  const { winner, total } = tally(candidates);
  if (!winner || winner.count < 2) return false;
  return (winner.weight / total) * Math.min(1, agreement(winner) / evidenceNeeded(tokenize(winner.best.continuation).length)) >= 0.5;
}

const leadingIndent = (line: string) => /^[ \t]*/.exec(line)![0];

/**
 * The line that opened the block a line indented `indent` at `no` closes: the nearest line above
 * at the same indentation, when it ends with an opening bracket.
 */
function openerOf(index: DocumentLineIndex, no: number, indent: string, limit = 400): IndexedLine | undefined {
  for (let at = no - 1; at >= 0 && at >= no - limit; at--) {
    const line = index.lines[at]!;
    if (!line.trimmed || line.indent.length > indent.length) continue;
    return line.indent === indent && /[{(\[]$/.test(line.trimmed) ? line : undefined;
  }
  return undefined;
}

/** The line that closes the block `opener` opens: the next line at its indentation, when it starts with a closing bracket. */
function closingOf(index: DocumentLineIndex, opener: IndexedLine, limit = 200): IndexedLine | undefined {
  for (let at = opener.no + 1; at < index.lines.length && at <= opener.no + limit; at++) {
    const line = index.lines[at]!;
    if (!line.trimmed || line.indent.length > opener.indent.length) continue;
    return line.indent === opener.indent && CLOSERS[line.trimmed[0]!] ? line : undefined;
  }
  return undefined;
}

/**
 * The lines of the block `opener` starts (more indented than it, up to and including a closing
 * line at its own indentation), re-indented for a cursor line indented `indent`; '' when the
 * block is long or has no clear end.
 */
function blockAfter(index: DocumentLineIndex, opener: IndexedLine, indent: string, maxLines = 6): string {
  const body: string[] = [];
  for (let no = opener.no + 1; no < index.lines.length && body.length <= maxLines; no++) {
    const line = index.lines[no]!;
    if (!line.trimmed) return '';
    const deeper = line.indent.length > opener.indent.length && line.indent.startsWith(opener.indent);
    if (deeper) {
      body.push(`\n${indent}${line.indent.slice(opener.indent.length)}${line.trimmed}`);
      continue;
    }
    // The block ends: with a closing line at the opener's indentation, or (Python) by dedenting.
    if (line.indent === opener.indent && /^[)\]}]/.test(line.trimmed)) body.push(`\n${indent}${line.trimmed}`);
    return body.length > 0 && body.length <= maxLines + 1 ? body.join('') : '';
  }
  return '';
}

/** Whether the text typed on a line is a comment (a line comment, or a block comment's line). */
export function isCommentLine(linePrefix: string): boolean {
  return /^\s*(?:\/\/|#(?!include|define|if|pragma|!)|\/\*|\*(?:\s|$)|--\s|;)/.test(linePrefix);
}

/**
 * Evidence (tokens typed or matched, lines of matching context, votes) a continuation of
 * `tokens` tokens needs for full confidence: a long continuation copied from one place is
 * usually only partly right, so past five tokens each token asks for half a unit more.
 */
export function evidenceNeeded(tokens: number): number {
  return 5 + Math.max(0, tokens - 5) * 0.5;
}

/**
 * The shorter of `lines` and the lines of `index` holding the word keyed `word` (when there is
 * one): a line must be in both to match, so walking the shorter list finds the same lines sooner.
 */
export function narrowest(lines: ReadonlySet<IndexedLine> | undefined, word: string | undefined, index: DocumentLineIndex): ReadonlySet<IndexedLine> | undefined {
  if (!lines || word === undefined) return lines;
  const holding = index.byWord.get(word);
  return !holding || holding.size < lines.size ? holding : lines;
}

/**
 * The key (`wordKey`) of the word of `tail` that the fewest lines of `sources` hold: the cheapest
 * way to find the lines holding the whole tail. Words of three characters count only when
 * complete (not the last token, which may still be being typed).
 */
export function rarestWord(tail: string, sources: readonly DocumentLineIndex[]): string | undefined {
  const spans = tokenSpans(tail);
  let best: string | undefined;
  let fewest = Infinity;
  spans.forEach((span, k) => {
    if (!/^[A-Za-z_$]/.test(span.text) || span.text.length < 3) return;
    if (span.text.length < 4 && k === spans.length - 1 && span.end === tail.length) return;
    const key = wordKey(span.text);
    let count = 0;
    for (const index of sources) count += index.byWord.get(key)?.size ?? 0;
    if (count > 0 && count < fewest) [best, fewest] = [key, count];
  });
  return best;
}

/**
 * Whether a continuation taken from a line whose text before it was `theirs` fits after `ours`:
 * the brackets it closes beyond its own must be open in ours, innermost first, and when it
 * closes every bracket its line opened it must close every bracket ours opened too (a statement
 * that ends there would otherwise be left unbalanced).
 */
export function bracketsFit(theirs: string, ours: string, continuation: string): boolean {
  // Inside a string the brackets are text.
  if (openQuote(theirs) !== undefined || openQuote(ours) !== undefined) return true;
  const mine = openBrackets(ours);
  const closes = closedOutside(continuation);
  if (closes.length > mine.length) return false;
  for (let i = 0; i < closes.length; i++) if (mine[mine.length - 1 - i] !== closes[i]) return false;
  return !(closes.length === openBrackets(theirs).length && closes.length < mine.length);
}

/**
 * Visits each bracket of `text` that stands outside string literals (', " and `, with backslash
 * escapes), in order; `visit` returning false stops the walk. True when `text` ends inside a
 * string literal (false when stopped).
 */
function walkBrackets(text: string, visit: (bracket: string, at: number) => boolean | void): boolean {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'" || char === '`') quote = char;
    else if ((OPENERS[char] || CLOSERS[char]) && visit(char, i) === false) return false;
  }
  return quote !== undefined;
}

/** The openers (innermost first) of the brackets `text` closes that it did not open itself. */
function closedOutside(text: string): string[] {
  const own: string[] = [];
  const outside: string[] = [];
  walkBrackets(text, (bracket) => {
    if (OPENERS[bracket]) own.push(bracket);
    else if (own.length > 0) own.pop();
    else outside.push(CLOSERS[bracket]!);
  });
  return outside;
}

/**
 * Where `text`'s top-level bracket groups end (just after each closing bracket that brings the
 * depth back to zero); undefined when a bracket is left open, closed unopened, or a quote is open.
 */
export function topLevelCloses(text: string): number[] | undefined {
  const ends: number[] = [];
  let depth = 0;
  const inString = walkBrackets(text, (bracket, at) => {
    if (OPENERS[bracket]) depth++;
    else if (--depth < 0) return false;
    else if (depth === 0) ends.push(at + 1);
  });
  return depth === 0 && !inString ? ends : undefined;
}

/** The end of the token of `text` that starts at `at` (a name, number, string or one other character). */
function tokenEnd(text: string, at: number): number {
  const code = text.charCodeAt(at);
  if (isWordChar(code)) {
    // A name, or a number with its dots (`1.5`, `0x1F`).
    const digits = code >= 48 && code <= 57;
    let end = at + 1;
    while (end < text.length && (isWordChar(text.charCodeAt(end)) || (digits && text[end] === '.'))) end++;
    return end;
  }
  const quote = text[at];
  if (quote === '"' || quote === "'" || quote === '`') {
    for (let end = at + 1; end < text.length; end++) {
      if (text[end] === '\\') end++;
      else if (text[end] === quote) return end + 1;
    }
  }
  return at + 1;
}

/**
 * The shape of a line: one character per token, `a` for a name, `0` for a number, `s` for a
 * complete string, punctuation as itself (a quote left open included).
 */
export function shapeOf(text: string): string {
  let shape = '';
  for (let at = 0; at < text.length; ) {
    const code = text.charCodeAt(at);
    if (code === 32 || code === 9) {
      at++;
      continue;
    }
    const end = tokenEnd(text, at);
    shape += isWordChar(code) ? (code >= 48 && code <= 57 ? '0' : 'a') : end - at > 1 ? 's' : text[at];
    at = end;
  }
  return shape;
}

/**
 * Where `line` goes on after its first `tokens` tokens (after the space that follows them when
 * `spaced`; with a `partial` name still being typed as the last, within the token of theirs that
 * starts with it); undefined when nothing follows or theirs does not start with the partial name.
 */
export function shapeEnd(line: string, tokens: number, spaced: boolean, partial?: string): number | undefined {
  let at = 0;
  for (let k = 0; k < tokens; k++) {
    while (line[at] === ' ' || line[at] === '\t') at++;
    if (at >= line.length) return undefined;
    if (partial && k === tokens - 1) {
      if (!line.startsWith(partial, at)) return undefined;
      at += partial.length;
    } else at = tokenEnd(line, at);
  }
  if (spaced) while (line[at] === ' ' || line[at] === '\t') at++;
  return at < line.length ? at : undefined;
}

/** Words that start a kind of statement rather than name something (the common languages'). */
const STATEMENT_WORDS = new Set(
  'return yield await if elif else for while do var let const def class function import from export throw raise new delete typeof case switch local assert del with async pub fn func go defer try catch finally not and or in is'.split(' '),
);

/** Whether a line's first token is a name that a sibling line may swap for its own. */
export function isSiblingName(head: string): boolean {
  return /^[A-Za-z_$]/.test(head) && !STATEMENT_WORDS.has(head);
}

/** A line worth using as context on its own: not a lone brace or keyword. */
function isDistinctive(trimmed: string): boolean {
  return trimmed.length >= 6 && tokenize(trimmed).length >= 2;
}
