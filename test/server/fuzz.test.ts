// Property-based robustness: thousands of random, truncated and malformed frames and byte streams
// at each transport. A connection fed garbage may be closed, but the daemon never crashes and
// keeps answering well-formed requests on its other connections and on new ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { encodeMessage, listMethods } from '../../protocol/index.js';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { initializeParams, makeTestEnv, sleep, startTestDaemon, type TestEnv, wsEndpoint } from '../helpers/index.js';
import { openClient, type SuiteClient } from './clients.js';

// Every method, but those that legitimately act daemon-wide (stopping it, making shadows).
const methodNames = listMethods()
  .map((spec) => spec.method)
  .filter((method) => method !== 'caret/daemon/stop' && !method.startsWith('caret/shadow/') && !method.startsWith('caret/agent/'));

/** A JSON-RPC-shaped message with random parts: the validators' and handlers' worst day. */
const randomMessage = fc.oneof(
  fc.record({
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.string()),
    id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.double(), fc.object()),
    method: fc.oneof(fc.constantFrom(...methodNames), fc.string()),
    params: fc.oneof(fc.object(), fc.array(fc.anything()), fc.anything()),
  }, { requiredKeys: [] }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constantFrom(...methodNames), params: fc.object({ maxDepth: 3 }) }),
  fc.array(fc.anything(), { maxLength: 5 }),
  fc.anything(),
);

const frameOf = (body: Buffer) => Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);

/** Byte streams for framed transports: garbage, truncated frames, bad headers, random messages. */
const framedStream = fc.array(
  fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    randomMessage.map((m) => frameOf(Buffer.from(JSON.stringify(m) ?? 'null'))),
    fc.tuple(randomMessage, fc.nat()).map(([m, cut]) => {
      const frame = frameOf(Buffer.from(JSON.stringify(m) ?? 'null'));
      return frame.subarray(0, cut % (frame.length + 1));
    }),
    fc.string().map((s) => Buffer.from(`Content-Length: ${s}\r\n\r\n`)),
    fc.string().map((s) => frameOf(Buffer.from(s))),
  ),
  { minLength: 1, maxLength: 12 },
);

describe('fuzzing every transport', () => {
  let env: TestEnv;
  let daemon: RunningDaemon;
  let bystander: SuiteClient;

  const stillServes = async () => {
    assert.ok((await bystander.request('caret/ping', { echo: 'ok' })).echo === 'ok', 'existing connection still served');
    const fresh = await openClient('unix', env);
    await fresh.request('initialize', initializeParams());
    assert.ok((await fresh.request('caret/ping', null)).serverTime, 'new connection served');
    fresh.close();
    // Garbage is the client's fault: it must never reach a handler as an internal error.
    const errors = readFileSync(env.paths.logFile, 'utf8').split('\n').filter((line) => line.includes('"level":"error"'));
    assert.deepEqual(errors.slice(0, 3), [], 'no internal errors logged');
  };

  before(async () => {
    env = makeTestEnv();
    env.writeConfig('[server]\nmaxMessageBytes = 65536\n');
    daemon = await startTestDaemon(env);
    bystander = await openClient('unix', env);
    await bystander.request('initialize', initializeParams());
  });
  after(async () => {
    bystander.close();
    await daemon.stop('done');
    env.cleanup();
  });

  test('Unix socket: random byte streams, frames and messages', async () => {
    let frames = 0;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), framedStream, async (initializeFirst, chunks) => {
        const socket = connect(env.paths.socketPath);
        socket.on('error', () => undefined);
        socket.on('data', () => undefined);
        await new Promise((resolve) => socket.once('connect', resolve));
        if (initializeFirst) socket.write(frameOf(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: initializeParams() }))));
        for (const chunk of chunks) {
          socket.write(chunk);
          frames++;
        }
        await sleep(2);
        socket.destroy();
      }),
      { numRuns: 400 },
    );
    assert.ok(frames > 1000, `${frames} frames sent`);
    await stillServes();
  });

  for (const encoding of ['json', 'msgpack'] as const) {
    test(`WebSocket ${encoding}: random frames and messages`, async () => {
      const { url, token } = await wsEndpoint(env);
      let frames = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })),
              fc.string().map((text) => ({ data: text, binary: false })),
              randomMessage.map((m) => ({ data: encodeMessage(m ?? null, encoding), binary: encoding === 'msgpack' })),
            ),
            { minLength: 1, maxLength: 15 },
          ),
          async (messages) => {
            const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
            socket.on('error', () => undefined);
            await new Promise((resolve) => socket.once('open', resolve));
            socket.send(encodeMessage({ jsonrpc: '2.0', id: 0, method: 'initialize', params: initializeParams() }, encoding), { binary: encoding === 'msgpack' });
            for (const message of messages) {
              if (socket.readyState !== socket.OPEN) break;
              socket.send(message.data, { binary: message.binary });
              frames++;
            }
            await sleep(2);
            socket.terminate();
          },
        ),
        { numRuns: 200 },
      );
      assert.ok(frames > 1000, `${frames} frames sent`);
      await stillServes();
    });
  }

  test('stdio relay: random byte streams', async () => {
    await fc.assert(
      fc.asyncProperty(framedStream, async (chunks) => {
        const relay = await openClient('stdio-relay', env);
        for (const chunk of chunks) relay.raw(chunk);
        await sleep(20);
        relay.close();
      }),
      { numRuns: 12 },
    );
    await stillServes();
  });
});
