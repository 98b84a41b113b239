// One conformance suite, run against every transport and both WebSocket encodings, with real
// clients. Each transport must carry identical behaviour.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCodes } from '../../protocol/index.js';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { initializeParams, makeTestEnv, sleep, startTestDaemon, type TestEnv } from '../helpers/index.js';
import { openClient, openRawClient, type RpcFailure, type SuiteClient, transports } from './clients.js';

const MAX_MESSAGE_BYTES = 1024 * 1024;

async function rejects(promise: Promise<unknown>, code: number, pattern?: RegExp): Promise<RpcFailure> {
  try {
    await promise;
  } catch (error) {
    const failure = error as RpcFailure;
    assert.equal(failure.code, code, `expected code ${code}, got ${failure.code}: ${failure.message}`);
    if (pattern) assert.match(failure.message, pattern);
    return failure;
  }
  assert.fail(`expected error ${code}`);
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

for (const transport of transports) {
  describe(`conformance over ${transport}`, () => {
    let env: TestEnv;
    let daemon: RunningDaemon;
    const open: SuiteClient[] = [];
    const client = async () => {
      const c = await openClient(transport, env);
      open.push(c);
      return c;
    };
    const initialized = async (overrides: Record<string, unknown> = {}) => {
      const c = await client();
      const result = await c.request('initialize', initializeParams(overrides));
      c.notify('initialized', {});
      return { c, result };
    };

    before(async () => {
      env = makeTestEnv();
      env.writeConfig(`[server]\nmaxMessageBytes = ${MAX_MESSAGE_BYTES}\n`);
      daemon = await startTestDaemon(env);
    });
    after(async () => {
      for (const c of open) c.close();
      await daemon.stop('test done');
      env.cleanup();
    });

    test('lifecycle: nothing before initialize, then initialize, shutdown, exit', async () => {
      const c = await client();
      await rejects(c.request('caret/ping', null), ErrorCodes.ServerNotInitialized, /send "initialize"/);
      const result = await c.request('initialize', initializeParams({ clientInfo: { name: 'conformance', version: '1' } }));
      assert.equal(result.serverInfo.name, 'caret');
      assert.equal(result.capabilities.positionEncoding, 'utf-16');
      assert.equal(result.capabilities.textDocumentSync.change, 2);
      assert.match(result.capabilities.experimental.caret.protocolVersion, /^\d+\.\d+\.\d+$/);
      assert.ok(result.capabilities.experimental.caret.methods.includes('caret/document/text'));
      c.notify('initialized', {});
      await rejects(c.request('initialize', initializeParams()), ErrorCodes.InvalidRequest, /already/);
      assert.equal(await c.request('shutdown'), null);
      await rejects(c.request('caret/ping', null), ErrorCodes.InvalidRequest, /shut down/);
      c.notify('exit');
      await c.closed;
    });

    test('position encoding negotiation: the first offer the server speaks', async () => {
      const { result } = await initialized({ capabilities: { general: { positionEncodings: ['utf-32', 'utf-16'] } } });
      assert.equal(result.capabilities.positionEncoding, 'utf-32');
    });

    for (const encoding of ['utf-16', 'utf-8', 'utf-32'] as const) {
      test(`incremental sync with CRLF, tabs and surrogate pairs in ${encoding}`, async () => {
        const { c } = await initialized({ capabilities: { general: { positionEncodings: [encoding] } } });
        const uri = `file:///tmp/sync-${encoding}.ts`;
        const text = 'const a = "😀";\r\n\tlet b = 1;\r\n';
        c.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
        // Replace the 1 after the tab on line 1, then insert after the emoji on line 0.
        const afterEmoji = { 'utf-16': 13, 'utf-8': 15, 'utf-32': 12 }[encoding];
        c.notify('textDocument/didChange', {
          textDocument: { uri, version: 2 },
          contentChanges: [
            { range: { start: { line: 1, character: 9 }, end: { line: 1, character: 10 } }, text: '42' },
            { range: { start: { line: 0, character: afterEmoji }, end: { line: 0, character: afterEmoji } }, text: '🎉' },
          ],
        });
        const view = await c.request('caret/document/text', { textDocument: { uri } });
        assert.equal(view.text, 'const a = "😀🎉";\r\n\tlet b = 42;\r\n');
        assert.equal(view.version, 2);
        c.notify('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: 'full\n' }] });
        assert.equal((await c.request('caret/document/text', { textDocument: { uri } })).text, 'full\n');
        c.notify('textDocument/didClose', { textDocument: { uri } });
        await rejects(c.request('caret/document/text', { textDocument: { uri } }), ErrorCodes.DocumentNotOpen, /didOpen/);
      });
    }

    test('cancellation: $/cancelRequest fails the request with -32800', async () => {
      const { c } = await initialized();
      const started = Date.now();
      await rejects(c.request('caret/ping', { delayMs: 20_000 }, { cancelAfterMs: 50 }), ErrorCodes.RequestCancelled);
      assert.ok(Date.now() - started < 10_000);
      assert.ok((await c.request('caret/ping', null)).serverTime > 0, 'connection still serves');
    });

    test('work-done progress is reported for a workDoneToken', async () => {
      const { c } = await initialized();
      const progress = c.progress('tok-1') as Array<{ kind: string }>;
      await c.request('caret/ping', { delayMs: 60, workDoneToken: 'tok-1' });
      await waitFor(() => (progress.at(-1)?.kind === 'end' ? true : undefined), 'end of progress');
      const values = progress.map((value) => value.kind);
      assert.equal(values[0], 'begin');
      assert.equal(values.at(-1), 'end');
      assert.ok(values.includes('report'));
    });

    test('unknown methods: -32601 for requests, silence for notifications', async () => {
      const { c } = await initialized();
      await rejects(c.request('caret/noSuchMethod', {}), ErrorCodes.MethodNotFound);
      c.notify('caret/noSuchNotification', {});
      c.notify('$/someClientOnlyThing', {});
      assert.ok((await c.request('caret/ping', { echo: 'still here' })).echo === 'still here');
    });

    test('params failing the schema: -32602 naming the field', async () => {
      const { c } = await initialized();
      const failure = await rejects(c.request('caret/document/text', { textDocument: { uri: 42 } }), ErrorCodes.InvalidParams, /params\.textDocument\.uri/);
      assert.ok(Array.isArray((failure.data as { errors: unknown[] }).errors));
      await rejects(c.request('caret/ping', { delayMs: -5 }), ErrorCodes.InvalidParams, /params\.delayMs/);
      // A bad notification is dropped, not answered, and the connection lives.
      c.notify('textDocument/didOpen', { textDocument: { uri: 'file:///x' } });
      assert.ok((await c.request('caret/ping', null)).serverTime);
    });

    test('raw: malformed JSON -> -32700 with id null; invalid requests -> -32600; batches', async () => {
      const raw = await openRawClient(transport, env);
      try {
        raw.sendMessage({ jsonrpc: '2.0', id: 1, method: 'initialize', params: initializeParams() });
        assert.equal((await raw.next()).id, 1);
        if (transport === 'websocket-msgpack') raw.sendBytes(Buffer.from([0xc1, 0xc1]));
        else raw.sendBody('{"jsonrpc": "2.0", "id": 5, "method": ');
        const parseError = await raw.next();
        assert.equal(parseError.id, null);
        assert.equal(parseError.error.code, ErrorCodes.ParseError);
        raw.sendMessage({ jsonrpc: '1.0', id: 2, method: 'caret/ping' });
        assert.deepEqual([(await raw.next()).error.code], [ErrorCodes.InvalidRequest]);
        raw.sendMessage({ jsonrpc: '2.0', id: 3, method: 17 });
        assert.equal((await raw.next()).error.code, ErrorCodes.InvalidRequest);
        raw.sendMessage(42);
        assert.equal((await raw.next()).error.code, ErrorCodes.InvalidRequest);
        raw.sendMessage([]);
        assert.equal((await raw.next()).error.code, ErrorCodes.InvalidRequest);
        raw.sendMessage([
          { jsonrpc: '2.0', id: 10, method: 'caret/ping', params: { echo: 'a' } },
          { jsonrpc: '2.0', method: 'initialized', params: {} },
          { jsonrpc: '2.0', id: 11, method: 'caret/nope' },
          'not a request',
        ]);
        const batch = await raw.next();
        assert.ok(Array.isArray(batch));
        assert.equal(batch.length, 3);
        const byId = new Map<unknown, any>(batch.map((r: { id: unknown }) => [r.id, r]));
        assert.equal((byId.get(10) as { result: { echo: string } }).result.echo, 'a');
        assert.equal((byId.get(11) as { error: { code: number } }).error.code, ErrorCodes.MethodNotFound);
        assert.equal((byId.get(null) as { error: { code: number } }).error.code, ErrorCodes.InvalidRequest);
        // A batch of notifications gets no reply at all: the next reply is for the ping after it.
        raw.sendMessage([{ jsonrpc: '2.0', method: '$/setTrace', params: { value: 'off' } }]);
        raw.sendMessage({ jsonrpc: '2.0', id: 12, method: 'caret/ping', params: null });
        assert.equal((await raw.next()).id, 12);
      } finally {
        raw.close();
      }
    });

    test('an oversized message closes that connection only', async () => {
      const { c: bystander } = await initialized();
      const raw = await openRawClient(transport, env);
      const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'x'.repeat(MAX_MESSAGE_BYTES + 10) } });
      raw.sendBody(transport === 'websocket-msgpack' ? Buffer.from(big) : big);
      if (!transport.startsWith('websocket')) {
        const reply = await raw.next();
        assert.equal(reply.id, null);
        assert.equal(reply.error.code, ErrorCodes.MessageTooLarge);
      }
      await raw.closed;
      assert.ok((await bystander.request('caret/ping', null)).serverTime, 'other connections unaffected');
      const fresh = await initialized();
      assert.ok((await fresh.c.request('caret/ping', null)).serverTime, 'new connections served');
    });

    test('a client that disconnects mid-request cancels its work', async () => {
      const { c } = await initialized({ clientInfo: { name: 'leaver' } });
      const pending = c.request('caret/ping', { delayMs: 30_000 }).catch(() => undefined);
      // The session exists (for stdio-standalone it lives in another process: skip the probe).
      if (transport !== 'stdio-standalone') {
        const session = await waitFor(() => [...daemon.runtime.hub.sessions].find((s) => s.clientName === 'leaver' && s.inflightCount > 0), 'request in flight');
        c.close();
        await waitFor(() => (session.state === 'closed' && session.inflightCount === 0 ? true : undefined), 'session closed and work cancelled');
      } else {
        c.close();
      }
      void pending;
    });
  });
}
