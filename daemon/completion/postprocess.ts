// Post-processing: turns what an engine or model produced at the cursor into something worth
// showing, or nothing. Each step is a pure function of (context, text); `postprocess` runs them
// in order. Tested on golden files in test/completion/golden/.
import { CLOSERS, eolOf, indentWidth, isBlank, leadingWhitespace, OPENERS, openBrackets, openQuote } from './text.js';

export interface PostprocessInput {
  /** Document text before the cursor (at least the current line and a few lines above). */
  prefix: string;
  /** Document text after the cursor. */
  suffix: string;
  /** What the engine proposes to insert at the cursor. */
  raw: string;
  /** The engine's confidence in [0, 1]; below `minConfidence` the answer is silence. */
  confidence?: number;
  minConfidence?: number;
  tabSize?: number;
  /** Longest suggestion kept, in lines. */
  maxLines?: number;
}

export interface ProcessedCompletion {
  /** Text to insert at the cursor, with the document's line endings. */
  insertText: string;
  /** How many characters after the cursor (all on the cursor's line) it replaces. */
  replaceLength: number;
}

interface Context {
  linePrefix: string;
  lineSuffix: string;
  /** Lines after the cursor's line. */
  nextLines: string[];
  usesTabs: boolean | undefined;
  tabSize: number;
}

function contextOf(input: PostprocessInput): Context {
  const prefix = input.prefix.replace(/\r\n/g, '\n');
  const suffix = input.suffix.replace(/\r\n/g, '\n');
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const newline = suffix.indexOf('\n');
  return {
    linePrefix: prefix.slice(lineStart),
    lineSuffix: newline < 0 ? suffix : suffix.slice(0, newline),
    nextLines: newline < 0 ? [] : suffix.slice(newline + 1).split('\n'),
    usesTabs: detectTabs(prefix),
    tabSize: input.tabSize ?? 4,
  };
}

/** Whether the document indents with tabs (undefined when the text does not say). */
function detectTabs(text: string): boolean | undefined {
  let tabs = 0;
  let spaces = 0;
  for (const match of text.slice(-4000).matchAll(/\n([ \t])/g)) {
    if (match[1] === '\t') tabs++;
    else spaces++;
  }
  return tabs + spaces === 0 ? undefined : tabs > spaces;
}

export function postprocess(input: PostprocessInput): ProcessedCompletion | null {
  if ((input.confidence ?? 1) < (input.minConfidence ?? 0)) return null;
  if (/[\u0000\uFFFD]/.test(input.raw)) return null;
  const context = contextOf(input);
  let text = input.raw.replace(/\r\n?/g, '\n');
  text = dropDuplicatedIndentation(context, text);
  text = removeRepetition(text);
  text = limitToEnclosingBlock(context, text);
  text = dropSuffixDuplicates(context, text);
  text = normalizeIndentation(context, text);
  text = capLines(text, input.maxLines ?? 20);
  text = text.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
  if (isBlank(text)) return null;
  // Nothing new: the completion is what already follows the cursor.
  if (context.lineSuffix.trimEnd().startsWith(text.trimEnd())) return null;
  const replaceLength = replaceLengthFor(context, text);
  const eol = input.prefix.includes('\n') ? eolOf(input.prefix.slice(-4000)) : eolOf(input.suffix.slice(0, 4000));
  return { insertText: eol === '\n' ? text : text.replace(/\n/g, eol), replaceLength };
}

/** On a line that holds only indentation, models often emit the indentation again. */
export function dropDuplicatedIndentation(context: Pick<Context, 'linePrefix'>, text: string): string {
  if (!isBlank(context.linePrefix) || context.linePrefix.length === 0) return text;
  const indent = leadingWhitespace(text);
  return text.slice(Math.min(indent.length, context.linePrefix.length));
}

/**
 * Cuts repetition loops: a block of lines repeated three times in a row (twice for blocks of two
 * or more non-trivial lines), or a short run of characters repeated at the end of a line.
 */
export function removeRepetition(text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const loop = /(.{1,24}?)\1{3,}$/.exec(lines[i]!);
    if (loop && loop[0].trim().length >= 4) {
      lines[i] = lines[i]!.slice(0, loop.index + loop[1]!.length);
      return lines.slice(0, i + 1).join('\n');
    }
    for (let size = 1; size <= 6 && i + 2 * size <= lines.length; size++) {
      const block = lines.slice(i, i + size);
      const substantial = block.join('').trim().length >= 12 && block.filter((line) => !isBlank(line)).length >= 2;
      const copies = countCopies(lines, i, size);
      if (copies >= 3 || (copies >= 2 && size >= 2 && substantial)) return lines.slice(0, i + size).join('\n');
    }
  }
  return text;
}

function countCopies(lines: string[], start: number, size: number): number {
  const block = lines.slice(start, start + size).map((line) => line.trim());
  if (block.every((line) => line.length === 0)) return 1;
  let copies = 1;
  for (let at = start + size; at + size <= lines.length; at += size) {
    if (lines.slice(at, at + size).every((line, k) => line.trim() === block[k])) copies++;
    else break;
  }
  return copies;
}

/**
 * Stops at the end of the enclosing block: at a closing bracket that closes something opened
 * before the cursor's line, or at a line indented less than the cursor's line.
 */
export function limitToEnclosingBlock(context: Pick<Context, 'linePrefix' | 'tabSize'>, text: string): string {
  const stack = openBrackets(context.linePrefix);
  const baseIndent = indentWidth(context.linePrefix, context.tabSize);
  // The cursor may be inside a string: its brackets are text, not structure.
  let quote = openQuote(context.linePrefix);
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\n') {
      quote = quote === '`' ? quote : undefined;
      lineStart = i + 1;
      const line = text.slice(lineStart, text.indexOf('\n', lineStart) < 0 ? undefined : text.indexOf('\n', lineStart));
      const dedented = !isBlank(line) && indentWidth(line, context.tabSize) < baseIndent;
      // A dedented line that closes a bracket the completion opened is the completion's own end.
      const closesOwn = dedented && CLOSERS[line.trim()[0] ?? ''] !== undefined && stack.length > 0;
      if (dedented && !closesOwn) return text.slice(0, i);
      continue;
    }
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (OPENERS[char]) stack.push(char);
    else if (CLOSERS[char]) {
      if (stack[stack.length - 1] === CLOSERS[char]) stack.pop();
      else return text.slice(0, i).replace(/\n[ \t]*$/, '');
    }
  }
  return text;
}

/** Drops the tail of a completion that repeats the text after the cursor. */
export function dropSuffixDuplicates(context: Pick<Context, 'lineSuffix' | 'nextLines'>, text: string): string {
  const lines = text.split('\n');
  // Mid-line, only the rest of the line makes sense: new lines would split the line's own text.
  if (context.lineSuffix.trim() && lines.length > 1) return lines[0]!;
  const next = context.nextLines.map((line) => line.trim()).filter((line) => line.length > 0);
  if (next.length === 0) return text;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    // The rest of the completion repeats the lines that follow: cut it.
    const rest = lines.slice(i).map((l) => l.trim()).filter((l) => l.length > 0);
    const matches = rest.every((l, k) => k >= next.length || l === next[k]);
    if (line === next[0] && (matches || line.length >= 8)) return lines.slice(0, i).join('\n');
  }
  return text;
}

/** Re-indents lines after the first with the document's indentation character. */
export function normalizeIndentation(context: Pick<Context, 'usesTabs' | 'tabSize'>, text: string): string {
  if (context.usesTabs === undefined) return text;
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const indent = leadingWhitespace(line);
    if (!indent) continue;
    const width = indentWidth(line, context.tabSize);
    const wanted = context.usesTabs
      ? '\t'.repeat(Math.floor(width / context.tabSize)) + ' '.repeat(width % context.tabSize)
      : ' '.repeat(width);
    lines[i] = wanted + line.slice(indent.length);
  }
  return lines.join('\n');
}

export function capLines(text: string, maxLines: number): string {
  const lines = text.split('\n');
  return lines.length <= maxLines ? text : lines.slice(0, maxLines).join('\n');
}

/**
 * How much of the cursor's line after the cursor the completion replaces. When the rest of the
 * line is only closing brackets, quotes and separators that the completion's first line also
 * ends with, the completion replaces them (the client's auto-pairs); otherwise it inserts, and a
 * completion that would duplicate the rest of the line answers -1 (show nothing).
 */
export function replaceLengthFor(context: Pick<Context, 'linePrefix' | 'lineSuffix'>, text: string): number {
  const rest = context.lineSuffix;
  const trimmed = rest.trimEnd();
  if (!trimmed) return rest.length;
  const firstLine = text.split('\n')[0]!;
  if (firstLine.trimEnd().endsWith(trimmed.trim())) return rest.length;
  if (/^[\s)\]}"'`;,:.>]*$/.test(trimmed)) {
    // Only closers follow: replace them when the completion already closed what they close.
    const closers = [...trimmed].filter((char) => CLOSERS[char]).length;
    const closedByCompletion = openBrackets(context.linePrefix).length - openBrackets(context.linePrefix + firstLine).length;
    if (closers > 0 && closedByCompletion >= closers) return rest.length;
    return 0;
  }
  return 0;
}
