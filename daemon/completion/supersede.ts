// One request in flight per key (a document on a connection): a newer one aborts the older one,
// whose signal fires down to the HTTP request or inference loop.
export class SupersededError extends Error {
  constructor() {
    super('superseded by a newer request');
    this.name = 'SupersededError';
  }
}

export interface Slot {
  /** Fires when a newer request takes the key, or when the caller's own signal fires. */
  signal: AbortSignal;
  /** True when a newer request took the key. */
  readonly superseded: boolean;
  /** Frees the key if this request still holds it. */
  release(): void;
}

export class Superseder {
  private readonly holders = new Map<string, AbortController>();

  begin(key: string, parent?: AbortSignal): Slot {
    this.holders.get(key)?.abort(new SupersededError());
    const own = new AbortController();
    this.holders.set(key, own);
    const signal = parent ? AbortSignal.any([own.signal, parent]) : own.signal;
    const holders = this.holders;
    return {
      signal,
      get superseded() {
        return own.signal.aborted;
      },
      release() {
        if (holders.get(key) === own) holders.delete(key);
      },
    };
  }

  /** Aborts whatever holds the key (the document closed). */
  cancel(key: string): void {
    this.holders.get(key)?.abort(new SupersededError());
    this.holders.delete(key);
  }

  get size(): number {
    return this.holders.size;
  }
}
