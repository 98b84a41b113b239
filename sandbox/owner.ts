// Which daemon manages the shadows directory. A daemon that is starting while another one runs
// (it will lose the socket race and exit) must not unmount or remount the live daemon's shadows,
// so the manager takes ownership first: a file naming the owner's pid and process start time
// (pid reuse after a crash cannot fake a live owner). A dead owner's file is taken over.
import * as fs from 'node:fs';
import { join } from 'node:path';

export interface Owner {
  pid: number;
  /** Process start time in clock ticks since boot (/proc/PID/stat field 22). */
  startTime: string;
}

export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export function isAlive(owner: Owner): boolean {
  if (process.platform !== 'linux') {
    try {
      process.kill(owner.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return processStartTime(owner.pid) === owner.startTime;
}

function readOwner(file: string): Owner | null {
  try {
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Owner;
    return typeof value.pid === 'number' && typeof value.startTime === 'string' ? value : null;
  } catch {
    return null;
  }
}

/**
 * Takes ownership of `dir` for this process. Returns null when it is ours, else the live owner.
 * Two daemons racing for a dead owner's file both write it; each then re-reads it, and only the
 * one named there proceeds.
 */
export function claimOwnership(dir: string): Owner | null {
  const file = join(dir, 'owner.json');
  const me: Owner = { pid: process.pid, startTime: processStartTime(process.pid) ?? String(Date.now()) };
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(me));
  try {
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = readOwner(file);
      if (current && current.pid !== me.pid && isAlive(current)) return current;
      fs.renameSync(temporary, file);
    }
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  const winner = readOwner(file);
  return winner && (winner.pid !== me.pid || winner.startTime !== me.startTime) ? winner : null;
}

/** Gives up ownership if this process holds it. */
export function releaseOwnership(dir: string): void {
  const file = join(dir, 'owner.json');
  if (readOwner(file)?.pid === process.pid) fs.rmSync(file, { force: true });
}
