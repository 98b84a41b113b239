// A small process that holds a private mount namespace with a kernel overlay of a shadow's layers
// mounted over the shadow's path. Exec enters that namespace (nsenter) instead of mounting a fresh
// overlay per command: no mount per command, and the overlay's own dentry and inode caches stay
// warm between commands (a fresh overlay must look every name up again, which made `git status`
// of a large tree 2.5x slower than on a warm one). The holder is `sh` waiting on its stdin: when
// the daemon closes the pipe, or dies, it exits, and the namespace goes with the last process in it.
import { spawn, type ChildProcess } from 'node:child_process';

const HOLDER_SCRIPT = 'mount -t overlay caret-shadow -o "$1" "$2" || exit 125; echo ready; read _ ; exit 0';

export class OverlayHolder {
  private exited = false;
  private users = 0;
  private retired = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('exit', () => {
      this.exited = true;
    });
    // Nothing is ever written to it; closing it after the holder died must not throw.
    child.stdin!.on('error', () => {});
  }

  /** Mounts `options` (overlayOptions()) over `mountPath` in a new private mount namespace. */
  static start(options: string, mountPath: string, timeoutMs = 10_000): Promise<OverlayHolder> {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', HOLDER_SCRIPT, 'sh', options, mountPath], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    return new Promise((resolve, reject) => {
      const fail = (message: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(message));
      };
      const timer = setTimeout(() => fail(`the overlay holder did not mount within ${timeoutMs} ms`), timeoutMs);
      child.on('error', (error) => fail(`cannot start the overlay holder: ${error.message}`));
      child.once('exit', (code) => fail(`the overlay holder exited (${code}) before mounting: ${output.trim() || 'no output'}`));
      child.stderr!.on('data', (chunk: Buffer) => {
        if (output.length < 4096) output += chunk.toString();
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        if (!chunk.toString().includes('ready')) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(new OverlayHolder(child));
      });
    });
  }

  get alive(): boolean {
    return !this.exited && !this.retired;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * The nsenter argv that enters the namespace; the caller adds `--wd=DIR -- command...` (entering a
   * mount namespace resets the working directory). Pair with release(): while a command uses the
   * holder it stays up even when retired, so the namespace cannot vanish before nsenter enters it.
   */
  acquire(): string[] {
    this.users++;
    return ['nsenter', `--mount=/proc/${this.pid}/ns/mnt`];
  }

  release(): void {
    this.users--;
    if (this.retired && this.users <= 0) this.stopNow();
  }

  /** No new commands; the holder exits once the commands being started no longer need it. */
  retire(): void {
    this.retired = true;
    if (this.users <= 0) this.stopNow();
  }

  private stopNow(): void {
    if (this.exited) return;
    this.child.stdin!.end();
    // A holder that does not leave on end of input is killed (its namespace stays while commands run in it).
    setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, 2000).unref();
  }
}
