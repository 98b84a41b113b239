// Index threads run at a lower CPU priority than the daemon's main thread, so that on a machine
// with few cores a cold index never delays a keystroke-driven request (completion, next edit).
// On Linux a thread's nice value is its own: os.setPriority(0, n) called inside a worker thread
// lowers that thread only (setpriority(2) treats the caller's thread id as "the process"). On
// other systems it may lower the whole daemon, so it is done on Linux only.
import os from 'node:os';

/** The nice value of indexing threads: background work, still ahead of idle-class jobs. */
export const INDEX_THREAD_NICE = 10;

/**
 * Parse threads run a little lower still: the indexer thread (the one database writer) is what
 * the lexical pass waits on, and with three busy threads on two cores equal weights left it two
 * thirds of a core; lower-weighted parse threads share the other core and leave it a whole one.
 */
export const PARSE_THREAD_NICE = INDEX_THREAD_NICE + 2;

/** Lowers the calling worker thread's priority; failures (sandboxes, odd kernels) are harmless. */
export function lowerThisThreadPriority(nice = INDEX_THREAD_NICE): void {
  if (process.platform !== 'linux') return;
  try {
    if (os.getPriority(0) < nice) os.setPriority(0, nice);
  } catch {
    // Not permitted here: the index simply runs at normal priority.
  }
}
