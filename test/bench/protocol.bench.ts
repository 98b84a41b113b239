// `npm run bench -- protocol`: round-trip latency (p50, p99) and pipelined throughput of a no-op
// request over each transport and encoding, side by side in one run with bare echo servers as
// the floor. Both sides run in separate processes; the same client code drives all of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { decodeMessage, type Encoding, encodeFrame, encodeMessage, FrameDecoder } from '../../protocol/index.js';
import { readToken } from '../../daemon/server/index.js';
import { cliPath, initializeParams, makeTestEnv, spawnDaemonProcess } from '../helpers/index.js';

const LATENCY_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3000);
const PIPELINED_REQUESTS = Number(process.env.BENCH_PIPELINED ?? 60000);
const WINDOW = 512;

interface Channel {
  send(message: object): void;
  onMessage(listener: (message: { id?: number }) => void): void;
  close(): void;
}

async function wsChannel(url: string, encoding: Encoding, token?: string): Promise<Channel> {
  const socket = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    send: (message) => socket.send(encodeMessage(message, encoding), { binary: encoding === 'msgpack' }),
    onMessage: (listener) =>
      socket.on('message', (data: Buffer, isBinary: boolean) => listener(decodeMessage(isBinary ? data : data.toString('utf8'), isBinary ? 'msgpack' : 'json') as { id?: number })),
    close: () => socket.close(),
  };
}

function framedChannel(write: (bytes: Buffer) => void, readable: NodeJS.ReadableStream, close: () => void): Channel {
  const decoder = new FrameDecoder(1 << 26);
  const listeners: Array<(message: { id?: number }) => void> = [];
  readable.on('data', (chunk: Buffer) => {
    for (const body of decoder.push(chunk)) {
      const message = JSON.parse(body.toString('utf8'));
      for (const listener of listeners) listener(message);
    }
  });
  return { send: (message) => write(encodeFrame(JSON.stringify(message))), onMessage: (listener) => listeners.push(listener), close };
}

async function unixChannel(path: string): Promise<Channel> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  return framedChannel((bytes) => socket.write(bytes), socket, () => socket.destroy());
}

function stdioChannel(env: NodeJS.ProcessEnv): { channel: Channel; child: ChildProcess } {
  const child = spawn(process.execPath, [cliPath, 'lsp'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  return { child, channel: framedChannel((bytes) => child.stdin!.write(bytes), child.stdout!, () => child.stdin!.end()) };
}

/** A request/response helper over a channel with in-flight tracking. */
function client(channel: Channel) {
  let nextId = 1;
  const pending = new Map<number, (message: unknown) => void>();
  channel.onMessage((message) => {
    if (typeof message.id === 'number') {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });
  const request = (method: string, params: unknown) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      channel.send({ jsonrpc: '2.0', id, method, params });
    });
  return { request };
}

interface Result {
  name: string;
  p50: number;
  p99: number;
  rps: number;
}

type Requester = (method: string, params: unknown) => Promise<unknown>;

/** Round-trip samples of two channels, alternating request by request so both see the same noise. */
async function latencyPair(a: Requester, b: Requester, methodA: string, methodB: string): Promise<[number[], number[]]> {
  for (let i = 0; i < 500; i++) {
    await a(methodA, null);
    await b(methodB, null);
  }
  const samplesA: number[] = [];
  const samplesB: number[] = [];
  const time = async (request: Requester, method: string, into: number[]) => {
    const start = process.hrtime.bigint();
    await request(method, null);
    into.push(Number(process.hrtime.bigint() - start) / 1000);
  };
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    if (i % 2 === 0) {
      await time(a, methodA, samplesA);
      await time(b, methodB, samplesB);
    } else {
      await time(b, methodB, samplesB);
      await time(a, methodA, samplesA);
    }
  }
  return [samplesA.sort((x, y) => x - y), samplesB.sort((x, y) => x - y)];
}

async function throughput(request: Requester, method: string): Promise<number> {
  const started = process.hrtime.bigint();
  let sent = 0;
  await new Promise<void>((resolve) => {
    let done = 0;
    const pump = () => {
      while (sent < PIPELINED_REQUESTS && sent - done < WINDOW) {
        sent++;
        void request(method, null).then(() => {
          done++;
          if (done === PIPELINED_REQUESTS) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  return PIPELINED_REQUESTS / (Number(process.hrtime.bigint() - started) / 1e9);
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;

/** Measures a floor and caret side by side: latency interleaved, throughput back to back. */
async function measurePair(floorName: string, floor: Channel, caretName: string, caret: Channel): Promise<Result[]> {
  const floorRequest = client(floor).request;
  const caretRequest = client(caret).request;
  const [floorSamples, caretSamples] = await latencyPair(floorRequest, caretRequest, 'echo', 'caret/ping');
  const floorRps = await throughput(floorRequest, 'echo');
  const caretRps = await throughput(caretRequest, 'caret/ping');
  return [
    { name: floorName, p50: percentile(floorSamples, 0.5), p99: percentile(floorSamples, 0.99), rps: floorRps },
    { name: caretName, p50: percentile(caretSamples, 0.5), p99: percentile(caretSamples, 0.99), rps: caretRps },
  ];
}

async function main(): Promise<void> {
  const env = makeTestEnv();
  const echoSocket = join(env.dir, 'echo.sock');
  const echo = spawn(process.execPath, [fileURLToPath(new URL('./echo-servers.js', import.meta.url)), echoSocket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const endpoints = await new Promise<{ wsUrl: string; socketPath: string }>((resolve) => echo.stdout!.once('data', (chunk) => resolve(JSON.parse(String(chunk)))));
  const daemon = await spawnDaemonProcess(env);
  const token = readToken(env.paths.tokenFile)!;
  const info = JSON.parse((await import('node:fs')).readFileSync(env.paths.pidFile, 'utf8')) as { webSocketUrl: string };
  const results: Result[] = [];
  const initialized = async (channel: Channel) => {
    await client(channel).request('initialize', initializeParams());
    return channel;
  };
  try {
    for (const encoding of ['msgpack', 'json'] as const) {
      results.push(
        ...(await measurePair(
          `bare ws echo (${encoding})`,
          await wsChannel(endpoints.wsUrl, encoding),
          `caret websocket (${encoding})`,
          await initialized(await wsChannel(info.webSocketUrl, encoding, token)),
        )),
      );
    }
    const stdio = stdioChannel(env.env);
    results.push(...(await measurePair('bare socket echo', await unixChannel(endpoints.socketPath), 'caret unix socket', await initialized(await unixChannel(env.paths.socketPath)))));
    const [, relayed] = await measurePair('bare socket echo (again)', await unixChannel(endpoints.socketPath), 'caret stdio (caret lsp relay)', await initialized(stdio.channel));
    results.push(relayed!);
    stdio.channel.close();
  } finally {
    daemon.kill('SIGTERM');
    echo.kill();
  }
  const row = (r: Result) => `| ${r.name} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${Math.round(r.rps).toLocaleString('en-US')} |`;
  const byName = new Map(results.map((r) => [r.name, r]));
  const ratio = (a: string, b: string, key: 'p50' | 'rps') => byName.get(a)![key] / byName.get(b)![key];
  const lines = [
    `protocol benchmark, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), Node ${process.versions.node}`,
    `${LATENCY_SAMPLES} sequential round trips (µs) and ${PIPELINED_REQUESTS} pipelined requests (window ${WINDOW}) per row`,
    '',
    '| transport | p50 µs | p99 µs | pipelined req/s |',
    '| --- | --- | --- | --- |',
    ...results.map(row),
    '',
    `caret p50 over its floor: websocket msgpack ${ratio('caret websocket (msgpack)', 'bare ws echo (msgpack)', 'p50').toFixed(2)}x, websocket json ${ratio('caret websocket (json)', 'bare ws echo (json)', 'p50').toFixed(2)}x, unix socket ${ratio('caret unix socket', 'bare socket echo', 'p50').toFixed(2)}x (goal: at most 1.50x)`,
    `pipelined websocket msgpack throughput: ${(100 * ratio('caret websocket (msgpack)', 'bare ws echo (msgpack)', 'rps')).toFixed(0)}% of the bare echo (goal: at least 40%)`,
  ];
  console.log(lines.join('\n'));
  env.cleanup();
  process.exit(0);
}

void main();
