// Transcripts: real client sessions recorded off the wire, replayed against the daemon. They
// guard compatibility: a change that breaks a recorded session breaks a real client.
import { connect, createServer, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from '../../protocol/index.js';

export interface TranscriptEntry {
  from: 'client' | 'server';
  message: any;
}

export interface Transcript {
  name: string;
  description: string;
  entries: TranscriptEntry[];
}

/** Values that differ from run to run are replaced by their kind. */
const VOLATILE_KEYS = new Set(['serverTime', 'pid', 'uptimeMs', 'connectedMs', 'startedAt', 'processId', 'socketPath', 'webSocketUrl', 'durationMs']);

export function normalize(value: unknown, version: string): unknown {
  if (Array.isArray(value)) return value.map((item) => normalize(item, version));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (VOLATILE_KEYS.has(key)) out[key] = `<${typeof item}>`;
      else if (key === 'version' && item === version) out[key] = '<caret version>';
      else out[key] = normalize(item, version);
    }
    return out;
  }
  return value;
}

/**
 * A tap between a real client and the daemon: a socket server that relays to the daemon's
 * socket and records every message both ways.
 */
export async function startTap(daemonSocket: string, tapSocket: string): Promise<{ entries: TranscriptEntry[]; close(): Promise<void> }> {
  const entries: TranscriptEntry[] = [];
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(daemonSocket);
    sockets.push(client, upstream);
    const fromClient = new FrameDecoder(1 << 30);
    const fromServer = new FrameDecoder(1 << 30);
    client.on('data', (chunk) => {
      for (const body of fromClient.push(chunk)) entries.push({ from: 'client', message: JSON.parse(body.toString('utf8')) });
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      for (const body of fromServer.push(chunk)) entries.push({ from: 'server', message: JSON.parse(body.toString('utf8')) });
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(tapSocket, resolve));
  return {
    entries,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ReplayMismatch {
  index: number;
  expected: unknown;
  actual: unknown;
}

/**
 * Sends the client's side of a transcript and checks the daemon answers as recorded: every
 * response (by id) and every notification, compared after normalisation. Notifications may
 * interleave differently with responses; their order among themselves must hold.
 */
export async function replay(transcript: Transcript, socketPath: string, version: string): Promise<ReplayMismatch[]> {
  const socket = connect(socketPath);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const decoder = new FrameDecoder(1 << 30);
  const received: unknown[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (chunk) => {
    for (const body of decoder.push(chunk)) received.push(JSON.parse(body.toString('utf8')));
    wake?.();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const expectedServer = transcript.entries.filter((entry) => entry.from === 'server').map((entry) => entry.message);
  const waitFor = async (predicate: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!predicate() && Date.now() < deadline) {
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), new Promise((resolve) => setTimeout(resolve, 20)), closed]);
    }
  };
  const entries = transcript.entries;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (entry.from !== 'client') continue;
    socket.write(encodeFrame(JSON.stringify(entry.message)));
    const { id, method } = entry.message as { id?: unknown; method?: string };
    // Wait for this request's reply before sending more, where the recorded client did.
    const nextClient = entries.findIndex((e, i) => i > index && e.from === 'client');
    const repliedBefore = entries.findIndex((e, i) => i > index && e.from === 'server' && e.message.id === id && !e.message.method);
    if (id !== undefined && method && repliedBefore >= 0 && (nextClient < 0 || repliedBefore < nextClient)) {
      await waitFor(() => received.some((m) => (m as { id?: unknown; method?: string }).id === id && !(m as { method?: string }).method), 5000);
    }
  }
  await waitFor(() => received.length >= expectedServer.length, 2000);
  socket.destroy();
  const mismatches: ReplayMismatch[] = [];
  const isResponse = (m: unknown) => (m as { method?: string }).method === undefined;
  const expectedNotifications = expectedServer.filter((m) => !isResponse(m)).map((m) => normalize(m, version));
  const actualNotifications = received.filter((m) => !isResponse(m)).map((m) => normalize(m, version));
  const expectedResponses = expectedServer.filter(isResponse).map((m) => normalize(m, version));
  const actualResponses = received.filter(isResponse).map((m) => normalize(m, version));
  const compare = (expected: unknown[], actual: unknown[], offset: number) => {
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      if (!conforms(expected[i], actual[i])) mismatches.push({ index: offset + i, expected: expected[i], actual: actual[i] });
    }
  };
  const byId = (list: unknown[]) => [...list].sort((a, b) => String((a as { id: unknown }).id).localeCompare(String((b as { id: unknown }).id)));
  compare(byId(expectedResponses), byId(actualResponses), 0);
  compare(expectedNotifications, actualNotifications, 1000);
  return mismatches;
}

/**
 * Whether `actual` still honours what `expected` recorded, allowing what a minor version may
 * do: add properties, add entries to lists of names, reword error messages (codes must hold).
 */
export function conforms(expected: unknown, actual: unknown, key = ''): boolean {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return false;
    if (expected.every((item) => typeof item !== 'object' || item === null)) return expected.every((item) => actual.includes(item));
    return expected.length === actual.length && expected.every((item, i) => conforms(item, actual[i]));
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([name, value]) => (key === 'error' && name === 'message') || conforms(value, (actual as Record<string, unknown>)[name], name));
  }
  return expected === actual;
}
