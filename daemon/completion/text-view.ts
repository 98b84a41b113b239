// What the completion service reads of a document's text: its length and windows of it on every
// request (a cache or typing-through hit reads nothing else), the whole text only when an engine
// runs. The workspace's TextSnapshot is one (it reads windows without joining its chunks); a
// plain string (tests, benchmarks, prefetch) is wrapped in another.

export interface TextView {
  readonly length: number;
  /** text[from, to), clamped to the text. */
  slice(from: number, to?: number): string;
  /** The whole text. */
  readonly text: string;
}

/** A document with a plain `text`, and optionally an immutable snapshot of it to read windows from. */
export interface ViewableDocument {
  readonly text: string;
  readonly snapshot?: TextView;
}

class StringView implements TextView {
  constructor(readonly text: string) {}

  get length(): number {
    return this.text.length;
  }

  slice(from: number, to: number = this.text.length): string {
    return this.text.slice(Math.max(0, from), Math.max(0, to));
  }
}

/** The document's current text as a view (its snapshot when it has one). */
export function viewOf(document: ViewableDocument): TextView {
  return document.snapshot ?? new StringView(document.text);
}

/** Whether the document still holds the text `view` was taken from (no change since). */
export function stillReads(document: ViewableDocument, view: TextView): boolean {
  if (document.snapshot !== undefined) return document.snapshot === view;
  return view instanceof StringView && document.text === view.text;
}

/** `base` with [start, end) replaced by `inserted` (a selected completion item), read lazily. */
export class SplicedView implements TextView {
  private joined: string | undefined;

  constructor(
    private readonly base: TextView,
    private readonly start: number,
    private readonly end: number,
    private readonly inserted: string,
  ) {}

  get length(): number {
    return this.base.length - (this.end - this.start) + this.inserted.length;
  }

  get text(): string {
    return (this.joined ??= this.base.slice(0, this.start) + this.inserted + this.base.slice(this.end));
  }

  slice(from: number, to: number = this.length): string {
    const low = Math.max(0, Math.min(from, this.length));
    const high = Math.max(low, Math.min(to, this.length));
    const insertedEnd = this.start + this.inserted.length;
    const parts: string[] = [];
    if (low < this.start) parts.push(this.base.slice(low, Math.min(high, this.start)));
    if (high > this.start && low < insertedEnd) parts.push(this.inserted.slice(Math.max(0, low - this.start), high - this.start));
    if (high > insertedEnd) parts.push(this.base.slice(Math.max(low, insertedEnd) - insertedEnd + this.end, high - insertedEnd + this.end));
    return parts.join('');
  }
}
