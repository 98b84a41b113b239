// Where apply gets document text: the connection's open documents first (the editor's buffer,
// versioned), the file on disk otherwise (versioned null). Reads only; apply never writes.
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ApplyError, type DocumentSource, type SourceDocument, type SourceProblem } from './service.js';

export interface OpenDocumentLookup {
  (uri: string): { text: string; version: number; languageId: string } | undefined;
}

/** Files larger than this are not loaded (a sketch merge over them would not be reviewable anyway). */
export const MAX_APPLY_FILE_BYTES = 16 * 1024 * 1024;

interface DiskStamp {
  mtimeMs: number;
  size: number;
}

export function looksBinary(bytes: Uint8Array): boolean {
  const probe = bytes.subarray(0, 8192);
  if (probe.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

export class EditorDocumentSource implements DocumentSource {
  private readonly stamps = new WeakMap<SourceDocument, DiskStamp>();

  constructor(private readonly openDocument: OpenDocumentLookup) {}

  async load(uri: string, expectedVersion: number | null | undefined): Promise<SourceDocument | SourceProblem> {
    const open = this.openDocument(uri);
    if (open) {
      if (typeof expectedVersion === 'number' && expectedVersion !== open.version) {
        throw new ApplyError(
          'contentModified',
          `${uri} is at version ${open.version}, but the sketch was written against version ${expectedVersion}; ask again with the current text.`,
          { uri, version: open.version, expectedVersion },
        );
      }
      return { uri, text: open.text, version: open.version, languageId: open.languageId };
    }
    if (typeof expectedVersion === 'number') {
      throw new ApplyError('contentModified', `${uri} is not open on this connection, so version ${expectedVersion} cannot be checked; open it (textDocument/didOpen) or send version null.`, { uri });
    }
    let path: string;
    try {
      if (!uri.startsWith('file:')) throw new Error('not a file URI');
      path = fileURLToPath(uri);
    } catch {
      return { uri, problem: 'unreadable', message: `${uri} is not open on this connection and is not a file: URI; open it first (textDocument/didOpen).` };
    }
    try {
      const before = await stat(path);
      if (!before.isFile()) return { uri, problem: 'unreadable', message: `${path} is not a regular file.` };
      if (before.size > MAX_APPLY_FILE_BYTES) {
        return { uri, problem: 'unreadable', message: `${path} is ${before.size} bytes, over apply's limit of ${MAX_APPLY_FILE_BYTES}; edit it another way.` };
      }
      const bytes = await readFile(path);
      if (looksBinary(bytes)) return { uri, problem: 'binary', message: `${path} is a binary file (or not UTF-8 text); apply edits text only, and the file was left untouched.` };
      const document: SourceDocument = { uri, text: new TextDecoder().decode(bytes), version: null };
      this.stamps.set(document, { mtimeMs: before.mtimeMs, size: before.size });
      return document;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(error)})`;
      return { uri, problem: 'unreadable', message: `${path} ${reason}; apply edits existing documents only.` };
    }
  }

  async unchanged(document: SourceDocument): Promise<boolean> {
    if (document.version !== null) return this.openDocument(document.uri)?.version === document.version;
    const stamp = this.stamps.get(document);
    if (!stamp) return true;
    try {
      const path = fileURLToPath(document.uri);
      const now = await stat(path);
      if (now.mtimeMs === stamp.mtimeMs && now.size === stamp.size) return true;
      return new TextDecoder().decode(await readFile(path)) === document.text;
    } catch {
      return false;
    }
  }
}
