// Conversions between LSP positions (line, character in a negotiated encoding) and offsets into
// a JavaScript string (UTF-16 code units). Pure. Lines end at \n, \r\n or \r, as LSP defines.
// Out-of-range positions are clamped, as LSP asks: a character past the end of its line means
// the end of the line, a line past the end of the document means the end of the document.
import type { Position, PositionEncodingKind } from '../../protocol/index.js';

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (code === 10 /* \n */) {
      starts.push(i + 1);
    }
  }
  return starts;
}

/** Offset where line `line`'s content ends (before its terminator). */
function lineContentEnd(text: string, lineStarts: number[], line: number): number {
  let end = line + 1 < lineStarts.length ? lineStarts[line + 1]! : text.length;
  if (end > lineStarts[line]! && text.charCodeAt(end - 1) === 10) end--;
  if (end > lineStarts[line]! && text.charCodeAt(end - 1) === 13) end--;
  return end;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

export function offsetAt(
  text: string,
  lineStarts: number[],
  position: Position,
  encoding: PositionEncodingKind,
): number {
  if (position.line >= lineStarts.length) return text.length;
  const start = lineStarts[position.line]!;
  return offsetInLine(text, start, lineContentEnd(text, lineStarts, position.line), position.character, encoding);
}

export function positionAt(
  text: string,
  lineStarts: number[],
  offset: number,
  encoding: PositionEncodingKind,
): Position {
  const clamped = Math.max(0, Math.min(offset, text.length));
  const line = lastAtMost(lineStarts, clamped);
  const start = lineStarts[line]!;
  const target = Math.min(clamped, lineContentEnd(text, lineStarts, line));
  return { line, character: unitsInLine(text, start, target, encoding) };
}

/**
 * The offset of `character` (in `encoding`'s units) on a line whose content is text[start, end):
 * clamped to the line's end, and never inside a surrogate pair or a UTF-8 sequence (such a
 * position means the character it belongs to).
 */
export function offsetInLine(text: string, start: number, end: number, character: number, encoding: PositionEncodingKind): number {
  if (encoding === 'utf-16') {
    let offset = Math.min(start + character, end);
    if (offset > start && offset < end && isLowSurrogate(text.charCodeAt(offset)) && isHighSurrogate(text.charCodeAt(offset - 1))) offset--;
    return offset;
  }
  let units = 0;
  let offset = start;
  while (offset < end) {
    const codePoint = text.codePointAt(offset)!;
    const width = encoding === 'utf-8' ? utf8Length(codePoint) : 1;
    if (units + width > character) break;
    units += width;
    offset += codePoint > 0xffff ? 2 : 1;
  }
  return offset;
}

/** How many of `encoding`'s units text[start, target) takes (both on one line). */
export function unitsInLine(text: string, start: number, target: number, encoding: PositionEncodingKind): number {
  if (encoding === 'utf-16') return target - start;
  let units = 0;
  for (let i = start; i < target; ) {
    const codePoint = text.codePointAt(i)!;
    units += encoding === 'utf-8' ? utf8Length(codePoint) : 1;
    i += codePoint > 0xffff ? 2 : 1;
  }
  return units;
}

/** Length of `text` in the given encoding's units. */
export function encodedLength(text: string, encoding: PositionEncodingKind): number {
  if (encoding === 'utf-16') return text.length;
  if (encoding === 'utf-8') return Buffer.byteLength(text, 'utf8');
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Chooses the first encoding the client offers that caret speaks; utf-16 otherwise (LSP). */
export function negotiatePositionEncoding(offered: readonly string[] | undefined): PositionEncodingKind {
  for (const encoding of offered ?? []) {
    if (encoding === 'utf-16' || encoding === 'utf-8' || encoding === 'utf-32') return encoding;
  }
  return 'utf-16';
}

/**
 * Index of the last value at or before `target` in an ascending array whose first value is at or
 * below it (the line holding an offset, given line starts), by binary search.
 */
export function lastAtMost(values: readonly number[], target: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (values[mid]! <= target) low = mid;
    else high = mid - 1;
  }
  return low;
}
