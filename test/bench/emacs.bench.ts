// Keystroke to ghost text in Emacs with the builtin provider: how much time caret.el adds on top
// of the daemon's own. Batch Emacs types one key at a time (through the real command loop and
// keymaps) and stamps: key -> request handed to the pipe -> reply reaches the process filter ->
// ghost overlay shown. The package's share is (key -> sent) + (reply -> shown); the round trip
// in between is the relay and the daemon. In the same run, a plain Node client (vscode-jsonrpc
// on the daemon's Unix socket, no relay) times the same didChange + inlineCompletion, for the
// daemon's own figure side by side.
//
//   npm run bench -- emacs [--samples N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectUnix, initializeParams, makeTestEnv } from '../helpers/index.js';
import { e2eDir, emacsVersion, runEmacs, stopDaemon, writeFixture } from '../e2e/emacs/emacs-session.js';
import { spawnDaemonProcess } from '../helpers/index.js';

const samples = Number(process.argv[process.argv.indexOf('--samples') + 1] || 200);
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const line = (name: string, values: number[]) =>
  `${name.padEnd(52)} p50 ${percentile(values, 50).toFixed(3).padStart(8)} ms   p99 ${percentile(values, 99).toFixed(3).padStart(8)} ms`;

async function directClient(socketPath: string, root: string): Promise<number[]> {
  const connection = await connectUnix(socketPath);
  await connection.sendRequest('initialize', initializeParams({
    capabilities: { general: { positionEncodings: ['utf-32'] }, textDocument: { inlineCompletion: {} } },
    workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'project' }],
  }));
  connection.sendNotification('initialized', {});
  const uri = pathToFileURL(join(root, 'src/totals-direct.js')).href;
  let text = readFileSync(join(root, 'src/totals.js'), 'utf8');
  let version = 1;
  connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version, text } });
  const times: number[] = [];
  for (let i = 0; i < samples + 10; i++) {
    const added = `\nexport function sumAges${i}(items) {\n  let c`;
    const lines = text.split('\n');
    const start = { line: lines.length - 1, character: lines[lines.length - 1]!.length };
    text += added;
    const endLines = text.split('\n');
    const position = { line: endLines.length - 1, character: endLines[endLines.length - 1]!.length };
    const t0 = performance.now();
    connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: ++version },
      contentChanges: [{ range: { start, end: start }, text: added }],
    });
    const result = (await connection.sendRequest('textDocument/inlineCompletion', {
      textDocument: { uri },
      position,
      context: { triggerKind: 2 },
    })) as { items: unknown[] } | null;
    const t1 = performance.now();
    if (i >= 10 && result && result.items.length > 0) times.push(t1 - t0);
  }
  connection.dispose();
  return times;
}

async function main(): Promise<void> {
  const version = emacsVersion();
  if (!version) throw new Error('emacs is not installed (apt-get install emacs-nox)');
  const testEnv = makeTestEnv();
  try {
    const root = writeFixture(testEnv.dir);
    const daemon = await spawnDaemonProcess(testEnv);
    const run = await runEmacs(testEnv, ['-l', join(e2eDir, 'bench.el')], {
      CARET_TEST_ROOT: root,
      CARET_BENCH_SAMPLES: String(samples),
      CARET_BENCH_OUT: join(testEnv.dir, 'bench.json'),
    });
    if (run.code !== 0) throw new Error(`emacs failed (${run.code}):\n${run.output}`);
    const emacs = JSON.parse(readFileSync(join(testEnv.dir, 'bench.json'), 'utf8')) as { missed: number; before: number[]; roundTrip: number[]; after: number[]; total: number[]; gc: number[] };
    const direct = await directClient(testEnv.paths.socketPath, root);
    const overhead = emacs.before.map((b, i) => b + emacs.after[i]!);
    console.log(`${version}, Node ${process.version}, ${emacs.total.length} samples (${emacs.missed} without ghost text)\n`);
    console.log(line('caret.el: key -> request sent', emacs.before));
    console.log(line('caret.el: reply received -> ghost shown', emacs.after));
    console.log(line('caret.el overhead (sum of the two)', overhead));
    const noGc = overhead.filter((_, i) => emacs.gc[i] === 0);
    console.log(line(`caret.el overhead, ${noGc.length} samples without a GC`, noGc));
    console.log(line('round trip seen from Emacs (relay + daemon)', emacs.roundTrip));
    console.log(line('Emacs keystroke -> ghost text, total', emacs.total));
    console.log(line('daemon alone: direct socket client', direct));
    console.log(
      `\nratio: Emacs total / direct client p50 ${(percentile(emacs.total, 50) / percentile(direct, 50)).toFixed(2)}x, ` +
        `p99 ${(percentile(emacs.total, 99) / percentile(direct, 99)).toFixed(2)}x; ` +
        `package overhead p50 ${percentile(overhead, 50).toFixed(3)} ms (goal < 5 ms)`,
    );
    daemon.kill('SIGTERM');
  } finally {
    stopDaemon(testEnv);
    testEnv.cleanup();
  }
}

await main();
