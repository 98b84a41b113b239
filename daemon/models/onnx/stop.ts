// Stop sequences over streamed text. Text that might be the start of a stop sequence is held back
// until the next piece shows whether it is, so a stop string never leaks into the output. Pure.
export class StopMatcher {
  private pending = '';
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    this.stops = stops.filter((stop) => stop.length > 0);
    this.longest = Math.max(0, ...this.stops.map((stop) => stop.length));
  }

  /** Feeds a piece; returns the text now safe to emit, and whether a stop sequence was reached. */
  push(piece: string): { text: string; stopped: boolean } {
    this.pending += piece;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      const text = this.pending.slice(0, cut);
      this.pending = '';
      return { text, stopped: true };
    }
    // Hold back the longest tail that is a proper prefix of some stop sequence.
    let hold = 0;
    for (let length = Math.min(this.longest - 1, this.pending.length); length > 0; length--) {
      const tail = this.pending.slice(this.pending.length - length);
      if (this.stops.some((stop) => stop.startsWith(tail))) {
        hold = length;
        break;
      }
    }
    const text = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { text, stopped: false };
  }

  /** The held-back text, at the end of generation. */
  flush(): string {
    const text = this.pending;
    this.pending = '';
    return text;
  }
}
