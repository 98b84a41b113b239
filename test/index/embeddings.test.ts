// Embeddings through the models layer's real ONNX embedder (a generated BERT-style encoder):
// vectors in sqlite-vec, the global cache shared by clones, semantic and hybrid search, and the
// whole path through config and the protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createOnnxEmbedder, type Embedder } from '../../daemon/models/index.js';
import { testEncoder } from '../fixtures/models/index.js';
import { connectUnix, initializeParams, makeTestEnv, sleep, startTestDaemon } from '../helpers/index.js';
import { makeService, openReady, tempDir, writeTree } from './helpers.js';

type Json = Record<string, any>;

const files = {
  'math.ts': 'export function addNumbers(a: number, b: number) {\n  return a + b;\n}\n',
  'strings.py': 'def join_words(words):\n    return " ".join(words)\n',
  'net.go': 'package net\n\nfunc OpenSocket(host string) error {\n\treturn nil\n}\n',
  'notes.md': '# Deployment notes\nRestart the service after changing the configuration.\n',
};

/** Counts what reaches the model, to see the cache at work. */
function counting(embedder: Embedder): Embedder & { texts: number } {
  const wrapper = {
    modelId: embedder.modelId,
    dimensions: embedder.dimensions,
    texts: 0,
    embed: (texts: readonly string[], signal?: AbortSignal) => {
      wrapper.texts += texts.length;
      return embedder.embed(texts, signal);
    },
  };
  return wrapper;
}

test('chunks are embedded once across clones; semantic and hybrid search rank the closest chunk first', async () => {
  const ws = tempDir();
  const clone = tempDir();
  const cache = tempDir();
  writeTree(ws.dir, files);
  cpSync(ws.dir, clone.dir, { recursive: true });
  const onnx = createOnnxEmbedder(testEncoder());
  const embedder = counting(onnx);
  const service = makeService(cache.dir, { watch: false }, embedder);
  try {
    const index = await openReady(service, ws.dir);
    const status = index.status();
    assert.equal(status.embeddings!.model, onnx.modelId);
    assert.equal(status.embeddings!.embedded, status.chunks);
    assert.equal(embedder.texts, status.chunks);
    // Semantic: a chunk's own text is nearest to itself.
    const vector = await index.embedQuery(files['net.go'].trimEnd());
    const hits = index.search({ query: 'x', limit: 4, mode: 'semantic', queryVector: vector! });
    assert.equal(hits[0]!.path, 'net.go');
    assert.ok(hits[0]!.score > hits[1]!.score);
    // Hybrid fuses both rankings: the chunk found by both lists comes first.
    const hybrid = index.search({ query: 'OpenSocket', limit: 4, mode: 'hybrid', queryVector: vector! });
    assert.equal(hybrid[0]!.path, 'net.go');
    // A clone reuses every embedding from the global cache.
    const before = embedder.texts;
    const cloned = await openReady(service, clone.dir);
    assert.equal(cloned.status().embeddings!.embedded, status.chunks);
    assert.equal(embedder.texts, before);
    // One changed file: only its chunk is embedded.
    writeFileSync(join(ws.dir, 'math.ts'), 'export function multiplyNumbers(a: number, b: number) {\n  return a * b;\n}\n');
    index.reindex();
    await index.whenIdle();
    assert.equal(embedder.texts, before + 1);
    assert.equal(index.status().embeddings!.embedded, index.status().chunks);
  } finally {
    await service.dispose();
    await onnx.dispose?.();
    for (const dir of [ws, clone, cache]) dir.cleanup();
  }
});

test('[models.embed] turns on semantic search through the protocol', async () => {
  const testEnv = makeTestEnv();
  const ws = tempDir();
  writeTree(ws.dir, files);
  testEnv.writeConfig(`[models.embed]\nprovider = "onnx"\npath = ${JSON.stringify(testEncoder())}\n`);
  const daemon = await startTestDaemon(testEnv);
  const connection = await connectUnix(testEnv.paths.socketPath);
  try {
    const uri = pathToFileURL(ws.dir).href;
    await connection.sendRequest('initialize', initializeParams({ workspaceFolders: [{ uri, name: 'ws' }] }));
    connection.sendNotification('initialized', {});
    let status: Json | undefined;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
      status = ((await connection.sendRequest('caret/index/status', {})) as Json).indexes[0];
      if (status?.state === 'ready' && status.embeddings?.embedded === status.chunks) break;
    }
    assert.equal(status!.embeddings.embedded, status!.chunks);
    const semantic = (await connection.sendRequest('caret/search', { query: files['strings.py'].trimEnd(), mode: 'semantic', limit: 2 })) as Json;
    assert.equal(semantic.mode, 'semantic');
    assert.ok(semantic.results[0].uri.endsWith('/strings.py'));
    const hybrid = (await connection.sendRequest('caret/search', { query: 'join_words' })) as Json;
    assert.equal(hybrid.mode, 'hybrid');
    assert.ok(hybrid.results[0].uri.endsWith('/strings.py'));
    const doctor = (await connection.sendRequest('caret/doctor', {})) as Json;
    const check = doctor.checks.find((c: Json) => c.name === 'index embeddings');
    assert.equal(check.status, 'ok', check.detail);
  } finally {
    connection.dispose();
    await daemon.stop('test over');
    ws.cleanup();
    testEnv.cleanup();
  }
});
