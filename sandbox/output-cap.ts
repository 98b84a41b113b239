// At most `limit` bytes of each output stream of a command, and whether anything was cut. Used by
// exec (what the caller gets) and by the held sandbox's spawner (what crosses its pipe), so it
// must import nothing: the spawner runs on its own inside the sandbox.
export type OutputStream = 'stdout' | 'stderr';

export class OutputCap {
  truncated = false;
  private readonly kept = { stdout: 0, stderr: 0 };

  constructor(private readonly limit: number) {}

  /** The part of `chunk` that still fits in `stream`'s share; undefined when none does. */
  take(stream: OutputStream, chunk: Buffer): Buffer | undefined {
    const room = this.limit - this.kept[stream];
    if (room <= 0) {
      this.truncated = true;
      return undefined;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.kept[stream] += part.length;
    return part;
  }
}
