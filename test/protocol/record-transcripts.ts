// Records the transcripts under test/protocol/transcripts/ from real vscode-jsonrpc sessions:
//   npm run build && node dist/test/protocol/record-transcripts.js
// Re-record only for a deliberate protocol change (a breaking one needs a major version bump).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancellationTokenSource, type MessageConnection } from 'vscode-jsonrpc/node.js';
import { connectUnix, makeTestEnv, repoRoot, sleep, startTestDaemon } from '../helpers/index.js';
import { startTap, type Transcript } from './transcript.js';

interface Scenario {
  name: string;
  description: string;
  run(connection: MessageConnection): Promise<void>;
}

const initialize = (encodings: string[]) => ({
  processId: 4242,
  clientInfo: { name: 'vscode-jsonrpc-recorder', version: '8' },
  rootUri: null,
  capabilities: { general: { positionEncodings: encodings }, window: { workDoneProgress: true } },
  workspaceFolders: null,
});

const swallow = (promise: Promise<unknown>) => promise.catch(() => undefined);

export const scenarios: Scenario[] = [
  {
    name: 'lifecycle',
    description: 'initialize, initialized, ping, shutdown, exit',
    async run(c) {
      await c.sendRequest('initialize', initialize(['utf-16']));
      await c.sendNotification('initialized', {});
      await c.sendRequest('caret/ping', { echo: { nested: [1, 'two'] } });
      await c.sendRequest('shutdown');
      await swallow(c.sendRequest('caret/ping', {}));
      await c.sendNotification('exit');
    },
  },
  {
    name: 'documents-utf8',
    description: 'utf-8 positions: open, incremental edits across an emoji and CRLF, read back, close',
    async run(c) {
      await c.sendRequest('initialize', initialize(['utf-8', 'utf-16']));
      await c.sendNotification('initialized', {});
      const uri = 'file:///project/src/main.rs';
      await c.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'rust', version: 1, text: 'fn main() {\r\n\tlet s = "😀";\r\n}\r\n' } });
      await c.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 2 },
        contentChanges: [{ range: { start: { line: 1, character: 14 }, end: { line: 1, character: 14 } }, text: '!' }],
      });
      await c.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 3 },
        contentChanges: [{ range: { start: { line: 0, character: 3 }, end: { line: 0, character: 7 } }, text: 'start' }],
      });
      await c.sendRequest('caret/document/text', { textDocument: { uri } });
      await c.sendNotification('textDocument/didSave', { textDocument: { uri } });
      await c.sendNotification('textDocument/didClose', { textDocument: { uri } });
      await swallow(c.sendRequest('caret/document/text', { textDocument: { uri } }));
    },
  },
  {
    name: 'errors',
    description: 'before initialize, unknown method, invalid params, second initialize',
    async run(c) {
      await swallow(c.sendRequest('caret/ping', {}));
      await c.sendRequest('initialize', initialize([]));
      await swallow(c.sendRequest('caret/unknownThing', {}));
      await swallow(c.sendRequest('caret/document/text', { textDocument: { uri: 7 } }));
      await swallow(c.sendRequest('caret/ping', { delayMs: 'soon' }));
      await swallow(c.sendRequest('initialize', initialize([])));
    },
  },
  {
    name: 'progress-and-cancel',
    description: 'work-done progress for a token, then a cancelled request',
    async run(c) {
      await c.sendRequest('initialize', initialize(['utf-16']));
      await c.sendRequest('caret/ping', { delayMs: 30, workDoneToken: 'progress-1' });
      const source = new CancellationTokenSource();
      const pending = swallow(c.sendRequest('caret/ping', { delayMs: 10_000 }, source.token));
      await sleep(50);
      source.cancel();
      await pending;
    },
  },
];

async function main(): Promise<void> {
  const env = makeTestEnv();
  const daemon = await startTestDaemon(env);
  try {
    for (const scenario of scenarios) {
      const tap = await startTap(env.paths.socketPath, join(env.dir, `tap-${scenario.name}.sock`));
      const connection = await connectUnix(join(env.dir, `tap-${scenario.name}.sock`));
      await scenario.run(connection);
      await sleep(200);
      connection.dispose();
      await tap.close();
      const transcript: Transcript = { name: scenario.name, description: scenario.description, entries: tap.entries };
      writeFileSync(join(repoRoot, 'test/protocol/transcripts', `${scenario.name}.json`), JSON.stringify(transcript, null, 2) + '\n');
      console.log(`recorded ${scenario.name}: ${tap.entries.length} messages`);
    }
  } finally {
    await daemon.stop('recorded');
    env.cleanup();
  }
}

if (process.argv[1]?.endsWith('record-transcripts.js')) void main();
