// A shadow's journal: the base of every file copied up (its content at that moment, stored by
// hash) and every rename, appended one JSON line at a time so a crash loses at most the line being
// written. The FUSE server appends; the daemon reads it to compute changes and merge on accept.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';

export type BaseRecord =
  | { op: 'base'; path: string; kind: 'file'; hash: string; mode: number }
  | { op: 'base'; path: string; kind: 'symlink'; target: string }
  | { op: 'rename'; from: string; to: string }
  /** After accept: the accepted content is the path's base from now on. */
  | { op: 'rebase'; path: string; kind: 'file'; hash: string; mode: number }
  | { op: 'rebase'; path: string; kind: 'symlink'; target: string };

export type BaseInput = { kind: 'file'; sourcePath: string; mode: number } | { kind: 'symlink'; target: string };

export interface BaseEntry {
  kind: 'file' | 'symlink';
  hash?: string;
  mode?: number;
  target?: string;
  /** The path the file had in the user's tree, when it was renamed in the shadow. */
  origin: string;
}

export class Journal {
  readonly file: string;
  readonly basesDir: string;
  private readonly recorded = new Set<string>();

  constructor(readonly metaDir: string) {
    this.file = join(metaDir, 'journal.jsonl');
    this.basesDir = join(metaDir, 'bases');
    fs.mkdirSync(this.basesDir, { recursive: true });
    endTornLine(this.file);
    for (const record of readJournal(metaDir)) if (record.op === 'base') this.recorded.add(record.path);
  }

  recordBase(path: string, input: BaseInput): void {
    if (this.recorded.has(path)) return;
    this.recorded.add(path);
    if (input.kind === 'file') {
      const content = fs.readFileSync(input.sourcePath);
      const hash = createHash('sha256').update(content).digest('hex');
      const stored = join(this.basesDir, hash);
      if (!fs.existsSync(stored)) {
        const temp = `${stored}.${process.pid}.tmp`;
        fs.writeFileSync(temp, content);
        fs.renameSync(temp, stored);
      }
      this.append({ op: 'base', path, kind: 'file', hash, mode: input.mode });
    } else {
      this.append({ op: 'base', path, kind: 'symlink', target: input.target });
    }
  }

  recordRename(from: string, to: string): void {
    this.append({ op: 'rename', from, to });
  }

  private append(record: BaseRecord): void {
    fs.appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}

/** A crash can leave a last line without its newline: end it, so the next record starts a line of its own. */
function endTornLine(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch {
    return;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) fs.writeSync(fd, '\n', size);
  } finally {
    fs.closeSync(fd);
  }
}

export function readJournal(metaDir: string): BaseRecord[] {
  let text = '';
  try {
    text = fs.readFileSync(join(metaDir, 'journal.jsonl'), 'utf8');
  } catch {
    return [];
  }
  const records: BaseRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as BaseRecord);
    } catch {
      // A torn last line from a crash: ignore it.
    }
  }
  return records;
}

/**
 * The base of each path as it is now named in the shadow, following renames. A path renamed from
 * A to B carries A's base and `origin: A`.
 */
export function basesByCurrentPath(records: BaseRecord[]): Map<string, BaseEntry> {
  const current = new Map<string, BaseEntry>();
  for (const record of records) {
    if (record.op === 'base') {
      if (current.has(record.path)) continue;
      current.set(record.path, record.kind === 'file'
        ? { kind: 'file', hash: record.hash, mode: record.mode, origin: record.path }
        : { kind: 'symlink', target: record.target, origin: record.path });
    } else if (record.op === 'rebase') {
      current.set(record.path, record.kind === 'file'
        ? { kind: 'file', hash: record.hash, mode: record.mode, origin: record.path }
        : { kind: 'symlink', target: record.target, origin: record.path });
    } else {
      // Move every entry at or under `from` to `to`.
      const moved: Array<[string, BaseEntry]> = [];
      for (const [path, entry] of current) {
        if (path === record.from || path.startsWith(record.from + '/')) moved.push([path, entry]);
      }
      for (const [path] of moved) current.delete(path);
      for (const [path] of [...current]) {
        if (path === record.to || path.startsWith(record.to + '/')) current.delete(path);
      }
      for (const [path, entry] of moved) current.set(record.to + path.slice(record.from.length), entry);
    }
  }
  return current;
}
