// Mounts the system knows about: finding shadow mounts left by a crashed daemon, and unmounting.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Decodes the octal escapes (\040 for space...) /proc/self/mountinfo uses. Pure. */
export function decodeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses /proc/self/mountinfo text. Pure. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [fsType, source] = right.split(' ');
    if (!fields[4] || !fsType) continue;
    entries.push({ mountPoint: decodeMountField(fields[4]), fsType, source: decodeMountField(source ?? '') });
  }
  return entries;
}

export function listMounts(): MountEntry[] {
  try {
    return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return [];
  }
}

export function isMounted(path: string): boolean {
  return listMounts().some((entry) => entry.mountPoint === path);
}

/** Lazily unmounts `path` if it is a mount point (a dead FUSE server leaves ENOTCONN behind). */
export async function forceUnmount(path: string): Promise<void> {
  if (!isMounted(path)) return;
  for (const [command, args] of [
    ['fusermount', ['-u', '-z', path]],
    ['fusermount3', ['-u', '-z', path]],
    ['umount', ['-l', path]],
  ] as const) {
    try {
      await run(command, [...args]);
      if (!isMounted(path)) return;
    } catch {}
  }
  if (isMounted(path)) throw new Error(`cannot unmount ${path}; run \`fusermount -u -z ${path}\``);
}
