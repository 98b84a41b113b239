// A parse worker: reads, hashes and chunks files on request (see process-file.ts).
import { parentPort } from 'node:worker_threads';
import { processFile, type ProcessRequest } from './process-file.js';

parentPort!.on('message', async (message: { id: number; request: ProcessRequest }) => {
  try {
    const result = await processFile(message.request);
    parentPort!.postMessage({ id: message.id, result });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: (error as Error).message });
  }
});
