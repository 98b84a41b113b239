// Entry point of a model worker thread: owns one onnxruntime session (a causal LM or an encoder)
// and serves requests one at a time, so inference never runs on the daemon's event loop.
// Cancellation arrives two ways: a shared flag the daemon sets the moment a request is aborted
// (read between forward passes without waiting for this thread's event loop), and a message.
import { parentPort, workerData } from 'node:worker_threads';
import { ModelError } from '../errors.js';
import { ChunkedEncoder } from '../tokenizer/index.js';
import { CausalLm, Encoder } from './engine.js';
import { cancelSlot, shutdownSlot, type SerializedError, type WorkerReply, type WorkerRequest } from './protocol.js';

if (!parentPort) throw new Error('daemon/models/onnx/worker.js must run as a worker thread');
const port = parentPort;
const cancelFlags = new Int32Array((workerData as { cancelBuffer: SharedArrayBuffer }).cancelBuffer);
const cancelledIds = new Set<number>();
let causal: CausalLm | undefined;
let encoder: Encoder | undefined;
let promptEncoder: ChunkedEncoder | undefined;
let queue: Promise<void> = Promise.resolve();

const reply = (message: WorkerReply) => port.postMessage(message);

function serialize(error: unknown): SerializedError {
  if (error instanceof ModelError) {
    // ModelError's message is "<provider> at <endpoint>: <what>. <fix>"; send <what> alone.
    const what = error.message.slice(`${error.provider} at ${error.endpoint}: `.length, error.message.length - `. ${error.fix}`.length);
    return { name: error.name, message: error.message, model: { kind: error.kind, endpoint: error.endpoint, fix: error.fix, message: what } };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

function needCausal(): CausalLm {
  if (!causal) throw new Error('no causal language model is loaded in this worker');
  return causal;
}

/** Prompts (with special tokens) go through the chunked encoder: a keystroke re-encodes one piece. */
function tokens(lm: CausalLm, input: string | number[], addSpecialTokens: boolean): number[] {
  if (typeof input !== 'string') return input;
  return addSpecialTokens && promptEncoder ? promptEncoder.encode(input) : lm.tokenizer.encode(input, { addSpecialTokens });
}

async function handle(request: Exclude<WorkerRequest, { type: 'cancel' } | { type: 'shutdown' }>): Promise<unknown> {
  const cancelled = () => cancelledIds.has(request.id) || Atomics.load(cancelFlags, cancelSlot) === request.id || Atomics.load(cancelFlags, shutdownSlot) === 1;
  switch (request.type) {
    case 'loadCausal':
      causal = await CausalLm.load(request.model, request.options);
      promptEncoder = new ChunkedEncoder(causal.tokenizer);
      return causal.info;
    case 'loadEncoder':
      encoder = await Encoder.load(request.model, request.options);
      return encoder.info;
    case 'generate': {
      const lm = needCausal();
      return lm.generate(tokens(lm, request.prompt, request.special ?? true), request.options, (text, token) => reply({ type: 'text', id: request.id, text, token }), cancelled);
    }
    case 'verify': {
      const lm = needCausal();
      const context = tokens(lm, request.context, true);
      const draft = tokens(lm, request.draft, false);
      return { ...(await lm.verify(context, draft, request.reuse, cancelled)), context, draft };
    }
    case 'embed':
      if (!encoder) throw new Error('no encoder is loaded in this worker');
      return encoder.embed(request.texts, cancelled);
    case 'clearCache':
      causal?.clearCache();
      return null;
    case 'cacheStats':
      return causal?.cacheStats() ?? { entries: 0, bytes: 0 };
  }
}

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'cancel') {
    cancelledIds.add(request.id);
    return;
  }
  if (request.type === 'shutdown') {
    // Ending the thread while onnxruntime is inside a run would abort the whole process, so the
    // thread ends itself once the request in progress has stopped at its next cancellation check.
    queue = queue.then(async () => {
      await Promise.allSettled([causal?.release(), encoder?.release()]);
      process.exit(0);
    });
    return;
  }
  queue = queue.then(async () => {
    try {
      if (cancelledIds.has(request.id)) throw new DOMException('The operation was aborted', 'AbortError');
      const value = await handle(request);
      reply({ type: 'result', id: request.id, value });
    } catch (error) {
      reply({ type: 'error', id: request.id, error: serialize(error) });
    } finally {
      cancelledIds.delete(request.id);
    }
  });
});
