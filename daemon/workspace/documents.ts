// The documents one connection has open. Every change is also recorded in the shared edit
// history, so next-edit prediction sees what the user did in any editor.
import type { PositionEncodingKind, TextDocumentItem } from '../../protocol/index.js';
import type { EditHistory } from './edit-history.js';
import { type ContentChange, type TextChange, TextDocument } from './text-document.js';

export class DocumentNotOpenError extends Error {
  constructor(readonly uri: string) {
    super(`document ${uri} is not open on this connection: send textDocument/didOpen first`);
    this.name = 'DocumentNotOpenError';
  }
}

export class DocumentStore {
  private readonly documents = new Map<string, TextDocument>();

  constructor(private readonly history: EditHistory) {}

  open(item: TextDocumentItem): TextDocument {
    const document = new TextDocument(item.uri, item.languageId, item.version, item.text);
    this.documents.set(item.uri, document);
    return document;
  }

  change(uri: string, version: number, changes: readonly ContentChange[], encoding: PositionEncodingKind): TextChange[] {
    const document = this.require(uri);
    const applied = document.applyChanges(changes, version, encoding);
    this.history.record(uri, version, applied);
    return applied;
  }

  /** A save may carry the text; take it as a full change if it differs. */
  save(uri: string, text: string | undefined): void {
    const document = this.require(uri);
    if (text !== undefined && text !== document.text) {
      this.history.record(uri, document.version, document.replaceText(text, document.version));
    }
  }

  close(uri: string): boolean {
    return this.documents.delete(uri);
  }

  get(uri: string): TextDocument | undefined {
    return this.documents.get(uri);
  }

  require(uri: string): TextDocument {
    const document = this.documents.get(uri);
    if (!document) throw new DocumentNotOpenError(uri);
    return document;
  }

  all(): IterableIterator<TextDocument> {
    return this.documents.values();
  }

  get size(): number {
    return this.documents.size;
  }
}
