// Index threads lower their own CPU priority and leave the daemon's main thread alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('parse threads run below the indexer thread, the one database writer', { skip: process.platform !== 'linux' && 'per-thread nice values are Linux behaviour' }, async () => {
  const { PARSE_THREAD_NICE, INDEX_THREAD_NICE } = await import('../../daemon/index/thread-priority.js');
  const { ParsePool } = await import('../../daemon/index/parse-pool.js');
  assert.ok(PARSE_THREAD_NICE > INDEX_THREAD_NICE);
  const dir = mkdtempSync(join(tmpdir(), 'caret-nice-'));
  const pool = new ParsePool({ size: 1 });
  try {
    writeFileSync(join(dir, 'a.ts'), 'export const a = 1;\n');
    await pool.process({ abs: join(dir, 'a.ts'), rel: 'a.ts', maxFileBytes: 1 << 20 });
    // The nice value of every thread of this process (field 19 of /proc/self/task/TID/stat).
    const nices = readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
    assert.ok(nices.includes(Math.max(os.getPriority(0), PARSE_THREAD_NICE)), `thread nice values: ${nices.join(' ')}`);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
