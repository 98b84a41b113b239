// An open document: its latest text and version, changed by LSP content changes. The text is a
// TextSnapshot (chunks of lines): an incremental change and the position conversions cost what
// they touch; `text` joins the whole text only for the callers that need it.
import type { Position, PositionEncodingKind, Range } from '../../protocol/index.js';
import { TextSnapshot } from './text-snapshot.js';

/** One change in offsets (UTF-16 code units) of the text before it. */
export interface TextChange {
  offset: number;
  deletedText: string;
  insertedText: string;
}

export type ContentChange = { range: Range; text: string } | { text: string };

export class TextDocument {
  private current: TextSnapshot;

  constructor(
    readonly uri: string,
    readonly languageId: string,
    public version: number,
    text: string,
  ) {
    this.current = TextSnapshot.of(text);
  }

  /** The whole text: joined once per version, O(document) the first time. */
  get text(): string {
    return this.current.text;
  }

  /**
   * The current version's text, immutable: windows of it, its length and positions cost what
   * they read. A new snapshot replaces it on every change, so identity tells "changed since".
   */
  get snapshot(): TextSnapshot {
    return this.current;
  }

  get length(): number {
    return this.current.length;
  }

  /** Where each line starts (O(lines) once per version; offsetAt and positionAt do not need it). */
  get lineStarts(): number[] {
    return this.current.lineStarts;
  }

  get lineCount(): number {
    return this.current.lineCount;
  }

  offsetAt(position: Position, encoding: PositionEncodingKind): number {
    return this.current.offsetAt(position, encoding);
  }

  positionAt(offset: number, encoding: PositionEncodingKind): Position {
    return this.current.positionAt(offset, encoding);
  }

  /** Applies changes in order and returns each as an offset-based change. */
  applyChanges(changes: readonly ContentChange[], version: number, encoding: PositionEncodingKind): TextChange[] {
    const applied: TextChange[] = [];
    for (const change of changes) {
      let start = 0;
      let end = this.current.length;
      if ('range' in change) {
        start = this.current.offsetAt(change.range.start, encoding);
        end = this.current.offsetAt(change.range.end, encoding);
        if (end < start) [start, end] = [end, start];
      }
      const deletedText = this.current.slice(start, end);
      if (deletedText === change.text) continue;
      this.current = this.current.replace(start, end, change.text);
      applied.push(trimCommon({ offset: start, deletedText, insertedText: change.text }));
    }
    this.version = version;
    return applied;
  }

  replaceText(text: string, version: number): TextChange[] {
    return this.applyChanges([{ text }], version, 'utf-16');
  }
}

/** Shrinks a change to what actually differs (full-sync clients resend the whole text). */
export function trimCommon(change: TextChange): TextChange {
  const { deletedText: a, insertedText: b } = change;
  let prefix = 0;
  const max = Math.min(a.length, b.length);
  while (prefix < max && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (
    suffix < max - prefix &&
    a.charCodeAt(a.length - 1 - suffix) === b.charCodeAt(b.length - 1 - suffix)
  )
    suffix++;
  // Keep surrogate pairs whole at the cut points.
  if (prefix > 0 && isLow(a.charCodeAt(prefix)) ) prefix--;
  if (suffix > 0 && isHigh(a.charCodeAt(a.length - suffix - 1))) suffix--;
  return {
    offset: change.offset + prefix,
    deletedText: a.slice(prefix, a.length - suffix),
    insertedText: b.slice(prefix, b.length - suffix),
  };
}

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff;
