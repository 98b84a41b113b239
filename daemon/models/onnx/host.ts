// The daemon side of a model worker: starts the thread, sends requests, streams text pieces back,
// and makes an AbortSignal fail the call at once (the worker stops at its next forward pass).
import { Worker } from 'node:worker_threads';
import { abortError, ModelError, type ModelErrorKind } from '../errors.js';
import { cancelSlot, shutdownSlot, type ResultValues, type SerializedError, type WorkerReply, type WorkerRequest } from './protocol.js';

type RequestBody = WorkerRequest extends infer R ? (R extends { type: 'cancel' } | { type: 'shutdown' } ? never : Omit<R, 'id'>) : never;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onText?: (text: string, token: number) => void;
}

function rebuild(error: SerializedError, endpoint: string): Error {
  if (error.name === 'AbortError') return new DOMException(error.message, 'AbortError');
  if (error.model) {
    return new ModelError({ kind: error.model.kind as ModelErrorKind, provider: 'onnx', endpoint: error.model.endpoint, message: error.model.message, fix: error.model.fix });
  }
  return new ModelError({ kind: 'server', provider: 'onnx', endpoint, message: `inference failed: ${error.message.replace(/\.$/, '')}`, fix: 'See the daemon log; if the model loads in onnxruntime elsewhere, report the model and the error' });
}

/** Every model worker whose thread has not ended: what must end before the process may exit. */
const liveWorkers = new Set<ModelWorker>();
/** Set once the process is on its way out: no model worker starts after that. */
let processEnding = false;

/**
 * Stops every model worker still running and waits for their threads to end. Whatever else a
 * way out of the process forgot (a provider dropped without dispose, a request that loaded a
 * model while the daemon was stopping), this is the last thing before process.exit().
 */
export async function stopModelWorkers(timeoutMs?: number): Promise<void> {
  processEnding = true;
  await Promise.all([...liveWorkers].map((worker) => worker.terminate(timeoutMs)));
}

export class ModelWorker {
  private readonly worker: Worker;
  private readonly cancelFlags: Int32Array;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  /** Set by terminate(): no new request is sent (the thread is about to end itself). */
  private terminating?: Promise<void>;
  private readonly exitPromise: Promise<void>;

  /** `endpoint` (the model directory) names the model in errors. */
  constructor(private readonly endpoint: string) {
    // A request still on its way while the process ends must not start a thread that exit() would cut mid-run.
    if (processEnding) throw new ModelError({ kind: 'server', provider: 'onnx', endpoint, message: 'caret is stopping', fix: 'Retry once caret has restarted' });
    const cancelBuffer = new SharedArrayBuffer(8);
    this.cancelFlags = new Int32Array(cancelBuffer);
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { cancelBuffer }, name: 'caret-model' });
    this.worker.unref();
    liveWorkers.add(this);
    this.worker.on('message', (message: WorkerReply) => this.receive(message));
    this.worker.on('error', (error) => this.fail(error));
    this.exitPromise = new Promise((resolve) =>
      this.worker.on('exit', (code) => {
        this.exited = true;
        liveWorkers.delete(this);
        this.fail(new Error(`the model worker exited (code ${code})`));
        resolve();
      }),
    );
  }

  get alive(): boolean {
    return !this.exited;
  }

  private receive(message: WorkerReply): void {
    const pending = this.pending.get(message.id);
    if (!pending) return; // cancelled: the daemon stopped listening already
    if (message.type === 'text') {
      pending.onText?.(message.text, message.token);
      return;
    }
    this.settle(message.id);
    if (message.type === 'result') pending.resolve(message.value);
    else pending.reject(rebuild(message.error, this.endpoint));
  }

  private settle(id: number): void {
    this.pending.delete(id);
    // Only a thread with work in flight keeps the process alive.
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(error: Error): void {
    const wrapped = new ModelError({ kind: 'server', provider: 'onnx', endpoint: this.endpoint, message: `the model worker stopped: ${error.message}`, fix: 'The next request restarts it; see the daemon log if this repeats', cause: error });
    for (const [id, pending] of this.pending) {
      this.settle(id);
      pending.reject(wrapped);
    }
  }

  call<T extends keyof ResultValues>(body: Extract<RequestBody, { type: T }>, options: { signal?: AbortSignal; onText?: (text: string, token: number) => void } = {}): Promise<ResultValues[T]> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.exited || this.terminating) return Promise.reject(new ModelError({ kind: 'server', provider: 'onnx', endpoint: this.endpoint, message: 'the model worker has stopped', fix: 'Retry the request' }));
    const id = this.nextId++;
    return new Promise<ResultValues[T]>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.has(id)) return;
        Atomics.store(this.cancelFlags, cancelSlot, id);
        this.worker.postMessage({ type: 'cancel', id } satisfies WorkerRequest);
        this.settle(id);
        reject(abortError(signal));
      };
      this.pending.set(id, {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value as ResultValues[T]);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        ...(options.onText ? { onText: options.onText } : {}),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.worker.ref();
      this.worker.postMessage({ ...body, id } as WorkerRequest);
    });
  }

  /**
   * Stops the worker: pending calls fail now; the thread stops at its next cancellation check and
   * ends itself (terminating it from outside in the middle of an onnxruntime run aborts the
   * process). Resolves when the thread has ended, or after `timeoutMs` if a forward pass is long.
   */
  terminate(timeoutMs = 10_000): Promise<void> {
    // Every caller waits for the same ending, so a second dispose path cannot return early.
    this.terminating ??= this.end(timeoutMs);
    return this.terminating;
  }

  private async end(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    this.fail(new Error('disposed'));
    Atomics.store(this.cancelFlags, shutdownSlot, 1);
    this.worker.ref(); // keep the process alive until the thread has ended
    this.worker.postMessage({ type: 'shutdown' } satisfies WorkerRequest);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exitPromise, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref()))]);
    clearTimeout(timer);
  }
}
