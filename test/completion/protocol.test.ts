// Inline completion, the completion fallback, accept, next edit and bad input, over the real
// Unix socket with vscode-jsonrpc; model cancellation against a local server speaking llama.cpp's
// /infill wire format (server-sent events).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { MessageConnection } from 'vscode-jsonrpc/node.js';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { connectUnix, initializeParams, makeTestEnv, sleep, startTestDaemon, type TestEnv } from '../helpers/index.js';

let env: TestEnv;
let daemon: RunningDaemon;

before(async () => {
  env = makeTestEnv();
  daemon = await startTestDaemon(env);
});
after(async () => {
  await daemon.stop('test over');
  env.cleanup();
});

async function client(capabilities: Record<string, unknown> = { textDocument: { inlineCompletion: {} } }): Promise<{ connection: MessageConnection; init: { capabilities: Record<string, unknown> } }> {
  const connection = await connectUnix(env.paths.socketPath);
  const init = (await connection.sendRequest('initialize', initializeParams({ capabilities: { general: { positionEncodings: ['utf-16'] }, ...capabilities } }))) as { capabilities: Record<string, unknown> };
  await connection.sendNotification('initialized', {});
  return { connection, init };
}

const source = [
  'import { Router } from "express";',
  'router.get("/users", auth, listUsers);',
  'router.post("/users", auth, createUser);',
  '',
  'router.get("/users", ',
  '',
].join('\n');

test('inline completion: LSP 3.18 list with range and accept command; accept runs through executeCommand', async () => {
  const { connection, init } = await client();
  assert.deepEqual(init.capabilities.inlineCompletionProvider, {});
  assert.deepEqual(init.capabilities.executeCommandProvider, { commands: ['caret.inlineCompletion.accept'] });
  assert.equal(init.capabilities.completionProvider, undefined, 'clients with inline completion get no completion fallback');
  const uri = 'file:///tmp/caret-inline/routes.ts';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text: source } });
  const position = { line: 4, character: 'router.get("/users", '.length };
  const result = (await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position, context: { triggerKind: 2 } })) as {
    items: Array<{ insertText: string; range: unknown; command: { command: string; arguments: [string] } }>;
  };
  assert.equal(result.items.length, 1);
  const [item] = result.items;
  assert.equal(item!.insertText, 'auth, listUsers);');
  assert.deepEqual(item!.range, { start: position, end: position });
  assert.equal(item!.command.command, 'caret.inlineCompletion.accept');
  await connection.sendNotification('caret/inlineCompletion/didShow', { id: item!.command.arguments[0] });
  assert.equal(await connection.sendRequest('workspace/executeCommand', { command: item!.command.command, arguments: item!.command.arguments }), null);
  const stats = daemon.runtime.services.completion.stats;
  assert.equal(stats.accepted, 1);
  assert.equal(stats.shown, 1);

  // Typing through the suggestion: the remainder comes from the cache.
  const hitsBefore = stats.cacheHits;
  await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: position, end: position }, text: 'auth, ' }] });
  const through = (await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 4, character: position.character + 6 }, context: { triggerKind: 2 } })) as { items: Array<{ insertText: string }> };
  assert.equal(through.items[0]?.insertText, 'listUsers);');
  assert.equal(stats.cacheHits, hitsBefore + 1);

  // Rejected: not offered again automatically at that spot; an explicit invocation still answers.
  const id = (through.items[0] as unknown as { command: { arguments: [string] } }).command.arguments[0];
  await connection.sendNotification('caret/inlineCompletion/didReject', { id });
  await sleep(50);
  const again = (await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 4, character: position.character + 6 }, context: { triggerKind: 2 } })) as { items: unknown[] };
  assert.equal(again.items.length, 0);
  const invoked = (await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 4, character: position.character + 6 }, context: { triggerKind: 1 } })) as { items: unknown[] };
  assert.equal(invoked.items.length, 1);
  connection.dispose();
});

test('inline completion: selectedCompletionInfo is extended over its range', async () => {
  const { connection } = await client();
  const uri = 'file:///tmp/caret-inline/selected.ts';
  const text = 'router.get("/users", auth, listUsers);\nrouter.get("/users", au\n';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
  const range = { start: { line: 1, character: 21 }, end: { line: 1, character: 23 } };
  const result = (await connection.sendRequest('textDocument/inlineCompletion', {
    textDocument: { uri },
    position: { line: 1, character: 23 },
    context: { triggerKind: 2, selectedCompletionInfo: { range, text: 'auth' } },
  })) as { items: Array<{ insertText: string; range: unknown }> };
  assert.equal(result.items[0]?.insertText, 'auth, listUsers);');
  assert.deepEqual(result.items[0]?.range, range);
  connection.dispose();
});

test('completion fallback: clients without inline completion get a completion item with a textEdit', async () => {
  const { connection, init } = await client({});
  assert.ok(init.capabilities.completionProvider);
  const uri = 'file:///tmp/caret-inline/fallback.ts';
  const text = 'app.use("/static", serveStatic(root), cache);\napp.use("/static", ';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
  const position = { line: 1, character: 'app.use("/static", '.length };
  const list = (await connection.sendRequest('textDocument/completion', { textDocument: { uri }, position })) as { isIncomplete: boolean; items: Array<{ label: string; textEdit: { newText: string; range: unknown } }> };
  assert.equal(list.isIncomplete, true);
  assert.equal(list.items[0]?.textEdit.newText, 'serveStatic(root), cache);');
  assert.equal(list.items[0]?.label, 'serveStatic(root), cache);');
  assert.deepEqual(list.items[0]?.textEdit.range, { start: position, end: position });
  connection.dispose();
});

test('next edit: a rename is proposed site by site, with versions, jumps and rejection', async () => {
  const { connection } = await client();
  const uri = 'file:///tmp/caret-inline/rename.ts';
  const lines = ['function area(width, height) {', '  const w = width;', ...Array.from({ length: 30 }, (_, i) => `  // line ${i}`), '  return width * height;', '}', ''];
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text: lines.join('\n') } });
  // The user renames the parameter.
  await connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 0, character: 14 }, end: { line: 0, character: 19 } }, text: 'w2' }],
  });
  const ask = (version: number, line = 0) => connection.sendRequest('caret/nextEdit', { textDocument: { uri, version }, position: { line, character: 16 } }) as Promise<{
    id: string;
    edits: Array<{ textDocument: { uri: string; version: number }; range: { start: { line: number; character: number } }; newText: string }>;
    jump?: { uri: string; position: { line: number } };
    reason: string;
  } | null>;
  assert.equal(await ask(1), null, 'a stale version gets null');
  const first = await ask(2);
  assert.ok(first);
  assert.deepEqual(first.edits[0]!.textDocument, { uri, version: 2 });
  assert.equal(first.edits[0]!.range.start.line, 1, 'nearest site first');
  assert.equal(first.edits[0]!.newText, 'w2');
  assert.equal(first.jump, undefined);
  // Accept: the client applies it and asks again (tab, tab).
  await connection.sendNotification('caret/nextEdit/didAccept', { id: first.id });
  await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ range: { start: { line: 1, character: 12 }, end: { line: 1, character: 17 } }, text: 'w2' }] });
  const second = await ask(3, 1);
  assert.ok(second);
  assert.equal(second.edits[0]!.range.start.line, 32);
  assert.equal(second.jump?.position.line, 32, 'off-screen: jump');
  await connection.sendNotification('caret/nextEdit/didReject', { id: second.id });
  await sleep(50);
  assert.equal(await ask(3, 1), null, 'a rejected edit is not proposed again');
  assert.equal(daemon.runtime.services.completion.stats.nextEditAccepted, 1);
  connection.dispose();
});

test('bad input: unopened documents, unknown commands, positions past the end, a closed document', async () => {
  const { connection } = await client();
  await assert.rejects(
    connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri: 'file:///never-opened.ts' }, position: { line: 0, character: 0 }, context: { triggerKind: 1 } }),
    (error: { code: number }) => error.code === -32091,
  );
  await assert.rejects(connection.sendRequest('caret/nextEdit', { textDocument: { uri: 'file:///never-opened.ts', version: 1 }, position: { line: 0, character: 0 } }), (error: { code: number }) => error.code === -32091);
  // The message names the problem (the code is InvalidParams once RpcError survives instanceof).
  await assert.rejects(connection.sendRequest('workspace/executeCommand', { command: 'rm -rf' }), /unknown command "rm -rf"; caret serves caret.inlineCompletion.accept/);
  await assert.rejects(connection.sendRequest('workspace/executeCommand', { command: 'caret.inlineCompletion.accept', arguments: [42] }), /takes the item's id/);
  assert.equal(await connection.sendRequest('workspace/executeCommand', { command: 'caret.inlineCompletion.accept', arguments: ['c999999'] }), null, 'an expired id is harmless');
  await assert.rejects(connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri: 'file:///x.ts' }, position: { line: 0, character: 0 }, context: { triggerKind: 7 } }), (error: { code: number }) => error.code === -32602);
  const uri = 'file:///tmp/caret-inline/short.ts';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text: 'x\n' } });
  const past = (await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 99, character: 99 }, context: { triggerKind: 1 } })) as { items: unknown[] };
  assert.deepEqual(past.items, []);
  assert.equal(await connection.sendRequest('caret/nextEdit', { textDocument: { uri, version: 1 }, position: { line: 50, character: 3 } }), null);
  connection.dispose();
});

function llamaServer(handler: (body: Record<string, unknown>, respond: (chunks: string[], delayMs: number) => Promise<void>, closed: Promise<void>) => Promise<void>): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => (raw += chunk));
    request.on('end', () => {
      const closed = new Promise<void>((resolve) => response.on('close', () => resolve()));
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const respond = async (chunks: string[], delayMs: number) => {
        for (const content of chunks) {
          if (response.destroyed) return;
          response.write(`data: ${JSON.stringify({ content, stop: false })}\n\n`);
          await sleep(delayMs);
        }
        if (!response.destroyed) response.end(`data: ${JSON.stringify({ content: '', stop: true, stop_type: 'eos' })}\n\n`);
      };
      void handler(JSON.parse(raw) as Record<string, unknown>, respond, closed);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

test('model completion: a newer request supersedes one in flight, cancelled down to the HTTP request; the hard cap applies', async () => {
  let closedRequests = 0;
  let calls = 0;
  const bodies: Array<Record<string, unknown>> = [];
  const { server, url } = await llamaServer(async (body, respond, closed) => {
    calls++;
    bodies.push(body);
    void closed.then(() => closedRequests++);
    const prefix = String(body.input_prefix);
    if (prefix.endsWith('slow')) await respond(['never', ' finished'], 5000);
    else await respond(['Value', '(1);'], 5);
  });
  const local = makeTestEnv();
  local.writeConfig(`[models.completion]\nprovider = "llamacpp"\nurl = "${url}"\n\n[completion]\nmaxModelMs = 1500\ndebounceMinMs = 0\n`);
  const own = await startTestDaemon(local);
  try {
    const connection = await connectUnix(local.paths.socketPath);
    await connection.sendRequest('initialize', initializeParams({ capabilities: { textDocument: { inlineCompletion: {} } } }));
    const uri = 'file:///tmp/caret-inline/model.ts';
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text: 'const a = slow' } });
    const firstRequest = connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 0, character: 14 }, context: { triggerKind: 1 } });
    while (calls === 0) await sleep(5);
    await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: 'const a = get' }] });
    const second = (await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 0, character: 13 }, context: { triggerKind: 1 } })) as { items: Array<{ insertText: string }> };
    const first = (await firstRequest) as { items: unknown[] };
    assert.deepEqual(first.items, [], 'the superseded request answers an empty list');
    assert.equal(second.items[0]?.insertText, 'Value(1);');
    // llama.cpp /infill wire format: prefix and suffix around the cursor, context files, prompt caching.
    const body = bodies[bodies.length - 1]!;
    assert.equal(body.input_prefix, 'const a = get');
    assert.equal(body.input_suffix, '');
    assert.ok(Array.isArray(body.input_extra));
    assert.equal(body.cache_prompt, true);
    for (let i = 0; i < 100 && closedRequests < 1; i++) await sleep(10);
    assert.ok(closedRequests >= 1, 'the superseded HTTP request was closed');
    // Hard cap: a model slower than maxModelMs shows nothing.
    await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: 'let b = slow' }] });
    const started = Date.now();
    const capped = (await connection.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 0, character: 12 }, context: { triggerKind: 1 } })) as { items: unknown[] };
    assert.deepEqual(capped.items, []);
    assert.ok(Date.now() - started < 4500);
    assert.equal(own.runtime.services.completion.stats.timedOut, 1);
    connection.dispose();
  } finally {
    await own.stop('test over');
    server.close();
    local.cleanup();
  }
});
