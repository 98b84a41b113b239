// The HTTP edge: cancellation, timeouts, unreachable servers, proxies and extra CA certificates.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelError } from '../../daemon/models/index.js';
import { ApiServer, sse, sseHeaders } from './api-server.js';
import { collect, registryWith } from './collect.js';

const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

describe('HTTP transport', () => {
  let api: ApiServer;
  before(async () => {
    api = await ApiServer.start();
  });
  after(() => api.close());

  const llama = (extra: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
    registryWith({ completion: { provider: 'llamacpp', url: api.url, retries: 0, timeoutMs: 5000, ...extra } }, env).resolve('completion');

  it('an abort mid-stream stops the request within milliseconds and closes the connection', async () => {
    api.on('POST /completion', { headers: sseHeaders, chunks: sse([{ content: 'a', stop: false }]), hang: true });
    const controller = new AbortController();
    const abortsBefore = api.clientAborts;
    let abortedAt = 0;
    await assert.rejects(
      (async () => {
        for await (const event of llama().complete!({ prompt: 'p', signal: controller.signal })) {
          if (event.type === 'text') {
            abortedAt = performance.now();
            controller.abort();
          }
        }
      })(),
      { name: 'AbortError' },
    );
    const elapsed = performance.now() - abortedAt;
    assert.ok(elapsed < 200, `abort took ${elapsed} ms`);
    for (let i = 0; i < 50 && api.clientAborts === abortsBefore; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(api.clientAborts, abortsBefore + 1, 'the server saw the connection close');
  });

  it('an abort before the response arrives rejects with AbortError', async () => {
    api.on('POST /completion', { hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(collect(llama().complete!({ prompt: 'p', signal: controller.signal })), { name: 'AbortError' });
  });

  it('breaking out of the iteration closes the connection', async () => {
    api.on('POST /completion', { headers: sseHeaders, chunks: sse([{ content: 'a', stop: false }]), hang: true });
    const abortsBefore = api.clientAborts;
    for await (const event of llama().complete!({ prompt: 'p' })) if (event.type === 'text') break;
    for (let i = 0; i < 50 && api.clientAborts === abortsBefore; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(api.clientAborts, abortsBefore + 1);
  });

  it('times out waiting for headers, and when a stream stalls', async () => {
    api.on('POST /completion', { hang: true, chunks: [] });
    // Headers are flushed by the script, so use a route that never answers at all.
    const silent = createServer(() => undefined);
    const port = await listen(silent);
    try {
      const p = registryWith({ completion: { provider: 'llamacpp', url: `http://127.0.0.1:${port}`, retries: 0, timeoutMs: 150 } }).resolve('completion');
      await assert.rejects(collect(p.complete!({ prompt: 'p' })), (error: unknown) => error instanceof ModelError && error.kind === 'timeout' && /no response within 150 ms/.test(error.message));
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
    api.on('POST /completion', { headers: sseHeaders, chunks: sse([{ content: 'a', stop: false }]), hang: true });
    await assert.rejects(collect(llama({ timeoutMs: 150 }).complete!({ prompt: 'p' })), (error: unknown) => error instanceof ModelError && error.kind === 'timeout' && /stalled/.test(error.message));
  });

  it('names the provider, URL and what to check when nothing listens', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const p = registryWith({ completion: { provider: 'llamacpp', url: `http://127.0.0.1:${port}`, retries: 2 } }).resolve('completion');
    await assert.rejects(collect(p.infill!({ prefix: '', suffix: '' })), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.kind, 'unreachable');
      assert.equal(error.message, `llamacpp at http://127.0.0.1:${port}/infill: cannot connect (ECONNREFUSED). Check that the server is running and listening on that address and port`);
      return true;
    });
  });

  it('goes through HTTP(S)_PROXY from the editor environment, honours NO_PROXY, and reaches loopback directly', async () => {
    // The proxy tunnels every CONNECT to the local API server, whatever host it names: a host
    // that does not exist is reachable only through the proxy.
    const tunnels: string[] = [];
    const apiPort = Number(new URL(api.url).port);
    const proxy = createServer();
    proxy.on('connect', (req, clientSocket, head) => {
      tunnels.push(req.url ?? '');
      const upstream = connect(apiPort, '127.0.0.1', () => {
        clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(clientSocket);
        clientSocket.pipe(upstream);
      });
      upstream.on('error', () => clientSocket.destroy());
      clientSocket.on('error', () => upstream.destroy());
    });
    const proxyPort = await listen(proxy);
    try {
      api.on('POST /completion', { headers: sseHeaders, chunks: sse([{ content: 'via proxy', stop: true }]) });
      const proxyUrl = `http://127.0.0.1:${proxyPort}`;
      const remote = `http://models.caret-test.invalid:${apiPort}`;
      const registry = registryWith({ completion: { provider: 'llamacpp', url: remote, retries: 0 } });
      const proxied = registry.resolve('completion', { env: { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl } });
      assert.equal((await collect(proxied.complete!({ prompt: 'p' }))).text, 'via proxy');
      assert.deepEqual(tunnels, [`models.caret-test.invalid:${apiPort}`]);

      const bypassed = registry.resolve('completion', { env: { HTTP_PROXY: proxyUrl, NO_PROXY: '.caret-test.invalid' } });
      assert.notEqual(bypassed, proxied, 'a different proxy environment gets its own provider');
      await assert.rejects(collect(bypassed.complete!({ prompt: 'p' })), (error: unknown) => error instanceof ModelError && error.kind === 'unreachable' && /host name/.test(error.fix));
      assert.equal(tunnels.length, 1, 'NO_PROXY bypassed the proxy');

      const local = registryWith({ completion: { provider: 'llamacpp', url: api.url, retries: 0 } }).resolve('completion', { env: { HTTP_PROXY: 'http://127.0.0.1:9' } });
      assert.equal((await collect(local.complete!({ prompt: 'p' }))).text, 'via proxy');
      assert.equal(tunnels.length, 1, 'a loopback server is reached without the proxy');
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it('trusts a private CA given by models.caFile, and explains a TLS failure without it', async () => {
    const dir = mkdtempSync('/tmp/caret-ca-');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
      const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200, sseHeaders).end(sse([{ content: 'secure', stop: true }]).join('')));
      });
      const port = await listen(server as unknown as Server);
      try {
        const url = `https://127.0.0.1:${port}`;
        const untrusted = registryWith({ completion: { provider: 'llamacpp', url, retries: 0 } }).resolve('completion');
        await assert.rejects(collect(untrusted.complete!({ prompt: 'p' })), (error: unknown) => error instanceof ModelError && error.kind === 'unreachable' && /NODE_EXTRA_CA_CERTS|caFile/.test(error.fix));
        const trusted = registryWith({ caFile: join(dir, 'cert.pem'), completion: { provider: 'llamacpp', url, retries: 0 } }).resolve('completion');
        assert.equal((await collect(trusted.complete!({ prompt: 'p' }))).text, 'secure');
      } finally {
        server.closeAllConnections();
        server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
