// A parse worker: reads, hashes and chunks files on request (see process-file.ts), and reports
// its memory with each answer so the pool can replace it before it grows too large.
import { parentPort } from 'node:worker_threads';
import type { WorkerReply } from './parse-pool.js';
import { processFile, type ProcessRequest } from './process-file.js';

const memory = () => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
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
