// Index threads lower their own CPU priority and leave the daemon's main thread alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

const moduleUrl = new URL('../../daemon/index/thread-priority.js', import.meta.url).href;

test('an index thread lowers only its own priority', { skip: process.platform !== 'linux' && 'per-thread nice values are Linux behaviour' }, async () => {
  const before = os.getPriority(0);
  const source = `
    const { parentPort } = require('node:worker_threads');
    const os = require('node:os');
    import(${JSON.stringify(moduleUrl)}).then(({ lowerThisThreadPriority, INDEX_THREAD_NICE }) => {
      lowerThisThreadPriority();
      parentPort.postMessage({ nice: os.getPriority(0), expected: INDEX_THREAD_NICE });
    });`;
  const worker = new Worker(source, { eval: true });
  const reply = await new Promise<{ nice: number; expected: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(reply.nice, Math.max(before, reply.expected), 'the worker thread runs at the index nice value');
  assert.equal(os.getPriority(0), before, 'the main thread keeps its priority');
});
