// What a shadow changed, against the base of each file: added, modified, deleted and renamed
// files with unified diffs. Overlay shadows read their upper layer and journal; copy shadows
// compare the copy with the manifest taken when it was made.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { basesByCurrentPath, readJournal, type BaseEntry } from './journal.js';
import { isDeviceWhiteout, OPAQUE_MARKER, WHITEOUT_PREFIX } from './layers.js';
import { joinRelative } from './safe-path.js';

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'renamed';

export interface FileChange {
  path: string;
  kind: ChangeKind;
  /** For renamed files: the path in the user's tree. */
  from?: string;
  binary: boolean;
  diff: string;
}

/** What accept needs: base, shadow and path facts for one change. */
export interface ChangeDetail extends FileChange {
  /** Base content (at copy-up); null when the file is new; undefined when not known (copy mode). */
  base: Buffer | null | undefined;
  /** The shadow's content (symlinks: their target); null for deleted. */
  current: Buffer | null;
  currentMode?: number;
  isSymlink: boolean;
}

export interface OverlayLayout {
  kind: 'overlay';
  lower: string;
  upper: string;
  metaDir: string;
}

export interface CopyLayout {
  kind: 'copy';
  lower: string;
  copy: string;
  metaDir: string;
}

export interface ManifestEntry {
  size: number;
  mtimeNs: string;
  mode: number;
  symlink?: boolean;
}

export function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8192).includes(0);
}

function unifiedDiff(path: string, from: string, before: Buffer | null, after: Buffer | null): { diff: string; binary: boolean } {
  const binary = (before !== null && isBinary(before)) || (after !== null && isBinary(after));
  const oldName = before === null ? '/dev/null' : `a/${from}`;
  const newName = after === null ? '/dev/null' : `b/${path}`;
  if (binary) return { binary, diff: `Binary files ${oldName} and ${newName} differ\n` };
  return { binary, diff: createTwoFilesPatch(oldName, newName, before?.toString('utf8') ?? '', after?.toString('utf8') ?? '', undefined, undefined, { context: 3 }) };
}

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch {
    return null;
  }
}

function readEntry(path: string, st: fs.Stats): Buffer {
  return st.isSymbolicLink() ? Buffer.from(fs.readlinkSync(path)) : fs.readFileSync(path);
}

/** Every file (not directory) under `dir`, as relative paths; symlinks are not followed. */
export function listFiles(dir: string, prefix = '', skip?: (relative: string) => boolean): string[] {
  const files: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    const relative = joinRelative(prefix, entry.name);
    if (skip?.(relative)) continue;
    if (entry.isDirectory()) files.push(...listFiles(join(dir, entry.name), relative, skip));
    else files.push(relative);
  }
  return files;
}

function baseContent(metaDir: string, base: BaseEntry): Buffer {
  return base.kind === 'symlink' ? Buffer.from(base.target ?? '') : fs.readFileSync(join(metaDir, 'bases', base.hash!));
}

export function overlayChanges(layout: OverlayLayout): ChangeDetail[] {
  const bases = basesByCurrentPath(readJournal(layout.metaDir));
  const details: ChangeDetail[] = [];
  const present = new Set<string>();
  const deleted = new Set<string>();

  const walk = (relative: string) => {
    const dir = relative === '' ? layout.upper : join(layout.upper, relative);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const opaque = relative !== '' && isOpaqueDir(dir);
    if (opaque) {
      // Everything the lower had here is gone unless the upper has it again.
      for (const file of listFiles(join(layout.lower, relative), relative)) deleted.add(file);
    }
    for (const entry of entries) {
      const child = joinRelative(relative, entry.name);
      const full = join(dir, entry.name);
      if (entry.name === OPAQUE_MARKER || entry.name.startsWith('.caret-copyup-')) continue;
      if (entry.name.startsWith(WHITEOUT_PREFIX)) {
        markDeleted(joinRelative(relative, entry.name.slice(WHITEOUT_PREFIX.length)));
        continue;
      }
      const st = fs.lstatSync(full, { bigint: true });
      if (isDeviceWhiteout(st)) {
        markDeleted(child);
        continue;
      }
      if (st.isDirectory()) {
        walk(child);
        continue;
      }
      present.add(child);
      const content = readEntry(full, fs.lstatSync(full));
      const base = bases.get(child);
      let baseBuffer: Buffer | null;
      let from = child;
      if (base) {
        baseBuffer = baseContent(layout.metaDir, base);
        from = base.origin;
      } else {
        // Copied up outside the FUSE server (a kernel-overlay exec) without a journal entry:
        // the user's file is the best base there is.
        const lower = join(layout.lower, child);
        const lowerStat = lstatOrNull(lower);
        baseBuffer = lowerStat && !lowerStat.isDirectory() ? readEntry(lower, lowerStat) : null;
      }
      const renamed = from !== child;
      const modeChanged = base?.kind === 'file' && base.mode !== undefined && st.isFile() && Number(st.mode & 0o7777n) !== base.mode;
      if (!renamed && baseBuffer !== null && baseBuffer.equals(content) && !modeChanged) continue;
      const kind: ChangeKind = renamed ? 'renamed' : baseBuffer === null ? 'added' : 'modified';
      const { diff, binary } = unifiedDiff(child, from, baseBuffer, content);
      details.push({
        path: child,
        kind,
        ...(renamed && { from }),
        binary,
        diff,
        base: baseBuffer,
        current: content,
        currentMode: Number(st.mode & 0o7777n),
        isSymlink: st.isSymbolicLink(),
      });
    }
  };

  function markDeleted(relative: string) {
    const lower = join(layout.lower, relative);
    const st = lstatOrNull(lower);
    if (!st) return;
    if (st.isDirectory()) for (const file of listFiles(lower, relative)) deleted.add(file);
    else deleted.add(relative);
  }

  walk('');
  const renamedFrom = new Set(details.filter((d) => d.kind === 'renamed').map((d) => d.from!));
  for (const path of [...deleted].sort()) {
    if (present.has(path) || renamedFrom.has(path)) continue;
    const lower = join(layout.lower, path);
    const st = lstatOrNull(lower);
    if (!st) continue;
    const base = bases.get(path);
    const baseBuffer = base ? baseContent(layout.metaDir, base) : readEntry(lower, st);
    const { diff, binary } = unifiedDiff(path, path, baseBuffer, null);
    details.push({ path, kind: 'deleted', binary, diff, base: baseBuffer, current: null, isSymlink: st.isSymbolicLink() });
  }
  return details.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

let xattrReader: ((dir: string) => boolean) | undefined;
/** Lets the caller supply the trusted.overlay.opaque check (it needs the native binding). */
export function setOpaqueXattrReader(reader: (dir: string) => boolean): void {
  xattrReader = reader;
}

function isOpaqueDir(dir: string): boolean {
  if (lstatOrNull(join(dir, OPAQUE_MARKER))) return true;
  return xattrReader?.(dir) ?? false;
}

export function copyChanges(layout: CopyLayout): ChangeDetail[] {
  const manifest = readManifest(layout.metaDir);
  const details: ChangeDetail[] = [];
  const seen = new Set<string>();
  for (const path of listFiles(layout.copy).sort()) {
    seen.add(path);
    const full = join(layout.copy, path);
    const st = fs.lstatSync(full, { bigint: true });
    const entry = manifest[path];
    const content = readEntry(full, fs.lstatSync(full));
    if (entry && String(st.mtimeNs) === entry.mtimeNs && Number(st.size) === entry.size && Number(st.mode & 0o7777n) === entry.mode) continue;
    const base = entry ? knownBase(layout, path, entry) : null;
    if (base && base.equals(content)) continue;
    const lowerNow = lstatOrNull(join(layout.lower, path));
    const shown = base ?? (entry && lowerNow ? readEntry(join(layout.lower, path), lowerNow) : null);
    const { diff, binary } = unifiedDiff(path, path, shown, content);
    details.push({ path, kind: entry ? 'modified' : 'added', binary, diff, base, current: content, currentMode: Number(st.mode & 0o7777n), isSymlink: st.isSymbolicLink() });
  }
  for (const path of Object.keys(manifest).sort()) {
    if (seen.has(path)) continue;
    const lower = join(layout.lower, path);
    const st = lstatOrNull(lower);
    if (!st) continue;
    const base = knownBase(layout, path, manifest[path]!);
    const { diff, binary } = unifiedDiff(path, path, base ?? readEntry(lower, st), null);
    details.push({ path, kind: 'deleted', binary, diff, base, current: null, isSymlink: st.isSymbolicLink() });
  }
  return details;
}

/** The user's file is the base while it still matches the manifest; after a user edit the base is unknown. */
function knownBase(layout: CopyLayout, path: string, entry: ManifestEntry): Buffer | undefined {
  const lower = join(layout.lower, path);
  try {
    const st = fs.lstatSync(lower, { bigint: true });
    if (String(st.mtimeNs) === entry.mtimeNs && Number(st.size) === entry.size) return readEntry(lower, fs.lstatSync(lower));
  } catch {}
  return undefined;
}

export function readManifest(metaDir: string): Record<string, ManifestEntry> {
  try {
    return JSON.parse(fs.readFileSync(join(metaDir, 'manifest.json'), 'utf8')) as Record<string, ManifestEntry>;
  } catch {
    return {};
  }
}

export function writeManifest(metaDir: string, manifest: Record<string, ManifestEntry>): void {
  const file = join(metaDir, 'manifest.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(manifest));
  fs.renameSync(`${file}.tmp`, file);
}

export function manifestOf(dir: string): Record<string, ManifestEntry> {
  const manifest: Record<string, ManifestEntry> = {};
  for (const path of listFiles(dir)) {
    const st = fs.lstatSync(join(dir, path), { bigint: true });
    manifest[path] = { size: Number(st.size), mtimeNs: String(st.mtimeNs), mode: Number(st.mode & 0o7777n), ...(st.isSymbolicLink() && { symlink: true }) };
  }
  return manifest;
}

export function toFileChange(detail: ChangeDetail): FileChange {
  return { path: detail.path, kind: detail.kind, ...(detail.from !== undefined && { from: detail.from }), binary: detail.binary, diff: detail.diff };
}
