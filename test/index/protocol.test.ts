// The index through the protocol: a real daemon in-process, a vscode-jsonrpc client over the
// Unix socket, server-initiated progress, search, symbols, status, reindex and bad params.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectUnix, initializeParams, makeTestEnv, sleep, startTestDaemon } from '../helpers/index.js';
import { eventually, tempDir, writeTree } from './helpers.js';

type Json = Record<string, any>;

test('workspace folders are indexed on initialize and searchable through the protocol', async () => {
  const testEnv = makeTestEnv();
  const ws = tempDir();
  writeTree(ws.dir, {
    'src/émoji.ts': 'const s = "😀"; export function fetchRemoteData(url: string) { return url; }\n',
    'src/other.py': 'def fetch_remote_data(url):\n    return url\n',
    'README.md': 'Call fetchRemoteData to fetch.\n',
  });
  const daemon = await startTestDaemon(testEnv);
  const connection = await connectUnix(testEnv.paths.socketPath);
  const progress: Array<{ token: unknown; value: Json }> = [];
  const created: unknown[] = [];
  connection.onRequest('window/workDoneProgress/create', (params: { token: unknown }) => {
    created.push(params.token);
    return null;
  });
  connection.onNotification('$/progress', (params: { token: unknown; value: Json }) => progress.push(params));
  try {
    const uri = pathToFileURL(ws.dir).href;
    await connection.sendRequest('initialize', initializeParams({ workspaceFolders: [{ uri, name: 'ws' }], capabilities: { general: { positionEncodings: ['utf-8'] }, window: { workDoneProgress: true } } }));
    connection.sendNotification('initialized', {});
    let ready: Json | undefined;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(20)) {
      ready = ((await connection.sendRequest('caret/index/status', {})) as Json).indexes[0];
      if (ready?.state === 'ready') break;
    }
    assert.equal(ready!.files, 3);
    assert.equal(ready!.uri, uri);
    assert.match(ready!.rootHash, /^[0-9a-f]{32}$/);
    // Server-initiated progress: a token was created, and begin ... end arrived on it.
    await eventually(() => progress.some((p) => p.value.kind === 'end'));
    assert.equal(created.length, 1);
    const kinds = progress.filter((p) => p.token === created[0]).map((p) => p.value.kind);
    assert.equal(kinds[0], 'begin');
    assert.equal(kinds.at(-1), 'end');

    const result = (await connection.sendRequest('caret/search', { query: 'fetchRemoteData', paths: ['src/**'] })) as Json;
    assert.equal(result.mode, 'lexical');
    assert.equal(result.incomplete, false);
    const uris = result.results.map((r: Json) => r.uri.slice(uri.length + 1)).sort();
    assert.deepEqual(uris, ['src/%C3%A9moji.ts', 'src/other.py']);
    const ts = result.results.find((r: Json) => r.language === 'typescript');
    // utf-8 positions: "😀" is 4 bytes (2 UTF-16 units), so the name starts at byte 34 (UTF-16 column 32).
    assert.deepEqual(ts.range, { start: { line: 0, character: 34 }, end: { line: 0, character: 49 } });
    assert.ok(ts.snippet.includes('fetchRemoteData'));
    assert.equal(ts.symbol, 'fetchRemoteData');

    const symbols = (await connection.sendRequest('caret/symbols', { query: 'fetch_remote' })) as Json;
    assert.deepEqual(symbols.symbols.map((s: Json) => [s.name, s.kind]), [['fetch_remote_data', 12]]);
    assert.deepEqual(symbols.symbols[0].location.range.start, { line: 0, character: 4 });

    // FTS5 syntax as text, and invalid params named.
    const odd = (await connection.sendRequest('caret/search', { query: '"fetch OR (data*' })) as Json;
    assert.ok(Array.isArray(odd.results));
    await assert.rejects(connection.sendRequest('caret/search', { query: 'x', mode: 'fuzzy' }), (error: Json) => error.code === -32602);
    await assert.rejects(connection.sendRequest('caret/search', { query: '' }), (error: Json) => error.code === -32602);
    await assert.rejects(connection.sendRequest('caret/search', { query: 'x', mode: 'semantic' }), (error: Json) => error.code === -32803 && /models\.embed/.test(error.message));
    await assert.rejects(connection.sendRequest('caret/search', { query: 'x', roots: ['https://example.com/'] }), (error: Json) => error.code === -32602);
    const other = tempDir();
    await assert.rejects(connection.sendRequest('caret/search', { query: 'x', roots: [pathToFileURL(other.dir).href] }), (error: Json) => error.code === -32803 && /not indexed/.test(error.message));

    // Reindex with wait and a work-done token; a new file is then found.
    writeFileSync(join(ws.dir, 'added.ts'), 'export const quokkaValue = 42;\n');
    const reindexed = (await connection.sendRequest('caret/index/reindex', { wait: true, workDoneToken: 'rx' })) as Json;
    assert.equal(reindexed.indexes[0].state, 'ready');
    assert.ok(progress.some((p) => p.token === 'rx' && p.value.kind === 'end'));
    const found = (await connection.sendRequest('caret/search', { query: 'quokka', mode: 'hybrid' })) as Json;
    assert.equal(found.results.length, 1);
    // A folder not open anywhere can be indexed on request.
    writeTree(other.dir, { 'x.ts': 'export const wombatThing = 1;\n' });
    const otherUri = pathToFileURL(other.dir).href;
    await connection.sendRequest('caret/index/reindex', { roots: [otherUri], wait: true });
    const inOther = (await connection.sendRequest('caret/search', { query: 'wombatThing', roots: [otherUri] })) as Json;
    assert.equal(inOther.results.length, 1);
    // Rebuild starts from an empty database and ends with the same root hash.
    const rebuilt = (await connection.sendRequest('caret/index/reindex', { rebuild: true, wait: true })) as Json;
    assert.equal(rebuilt.indexes[0].files, 4);
    other.cleanup();

    const doctor = (await connection.sendRequest('caret/doctor', {})) as Json;
    const names = doctor.checks.map((c: Json) => `${c.name}:${c.status}`);
    assert.ok(names.includes('index engine:ok'), names.join());
    assert.ok(names.some((n: string) => n.startsWith(`index ${ws.dir}:ok`)), names.join());
    assert.ok(names.includes('index embeddings:ok'), names.join());
  } finally {
    connection.dispose();
    await daemon.stop('test over');
    ws.cleanup();
    testEnv.cleanup();
  }
});
