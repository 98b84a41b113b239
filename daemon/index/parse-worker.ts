// A parse worker: reads, hashes and chunks files on request (see process-file.ts), and reports
// its memory with each answer so the pool can replace it before it grows too large.
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { WorkerReply } from './parse-pool.js';
import { processFile, type ProcessRequest } from './process-file.js';
import { lowerThisThreadPriority, PARSE_THREAD_NICE } from './thread-priority.js';

lowerThisThreadPriority(PARSE_THREAD_NICE);

// Measuring costs more than processing a small file: every 16th answer carries a fresh figure.
let answers = 0;
let lastMemory = 0;
const memory = () => {
  if (answers++ % 16 === 0) {
    const heap = getHeapStatistics();
    lastMemory = heap.used_heap_size + heap.external_memory;
  }
  return lastMemory;
};

parentPort!.on('message', async (message: { id: number; request: ProcessRequest }) => {
  let reply: WorkerReply;
  try {
    reply = { id: message.id, result: await processFile(message.request), memory: memory() };
  } catch (error) {
    reply = { id: message.id, error: (error as Error).message, memory: memory() };
  }
  parentPort!.postMessage(reply);
});
