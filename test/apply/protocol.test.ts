// caret/apply and caret/diff over the real Unix socket with vscode-jsonrpc: streamed hunks as
// $/progress partial results, versioned edits, documents read from disk, and every bad input.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { MessageConnection } from 'vscode-jsonrpc/node.js';
import type { RunningDaemon } from '../../daemon/server/index.js';
import { connectUnix, initializeParams, makeTestEnv, startTestDaemon, type TestEnv } from '../helpers/index.js';

let env: TestEnv;
let daemon: RunningDaemon;
let dir: string;

before(async () => {
  env = makeTestEnv();
  daemon = await startTestDaemon(env);
  dir = mkdtempSync('/tmp/caret-apply-');
});
after(async () => {
  await daemon.stop('test over');
  env.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function client(encoding = 'utf-16'): Promise<MessageConnection> {
  const connection = await connectUnix(env.paths.socketPath);
  await connection.sendRequest('initialize', initializeParams({ capabilities: { general: { positionEncodings: [encoding] } } }));
  await connection.sendNotification('initialized', {});
  return connection;
}

interface Hunk {
  uri: string;
  order: number;
  importance: string;
  reasons: string[];
  oldRange: { start: { line: number; character: number }; end: { line: number; character: number } };
  newRange: { start: { line: number; character: number }; end: { line: number; character: number } };
  oldText: string;
  newText: string;
  words: Array<{ kind: string; text: string; range: unknown }>;
}
interface ApplyResult {
  edit: { documentChanges: Array<{ textDocument: { uri: string; version: number | null }; edits: Array<{ range: Hunk['oldRange']; newText: string }> }> };
  hunks: Hunk[];
  unresolved: Array<{ uri: string; kind: string; message: string; sketchText: string; nearest: Array<{ text: string }> }>;
  stats: { files: number; hunks: number; linesAdded: number; linesRemoved: number; unresolved: number; strategy: string };
}

/** Applies LSP TextEdits (non-overlapping, against the original) to a text. */
function applyEdits(text: string, edits: Array<{ range: Hunk['oldRange']; newText: string }>): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const offset = (p: { line: number; character: number }) => (p.line >= starts.length ? text.length : starts[p.line]! + p.character);
  return [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start)).reduce((acc, e) => acc.slice(0, offset(e.range.start)) + e.newText + acc.slice(offset(e.range.end)), text);
}

const service = [
  'export function price(item) {',
  '  return item.cost;',
  '}',
  '',
  'export function total(items) {',
  '  let sum = 0;',
  '  for (const item of items) sum += price(item);',
  '  return sum;',
  '}',
  '',
  'export function report(items) {',
  '  console.log(total(items));',
  '}',
  '',
].join('\n');

test('caret/apply streams hunks as partial results and returns a versioned edit for an open document', async () => {
  const connection = await client();
  const uri = 'file:///tmp/caret-apply-open/service.js';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 7, text: service } });
  const streamed: Hunk[][] = [];
  connection.onProgress({ method: '$/progress' } as never, 'tok-1', (value: Hunk[]) => streamed.push(value));
  const sketch = [
    'export function price(item, rate) {',
    '  return item.cost * (1 + rate);',
    '}',
    '// ... existing code ...',
    '  for (const item of items) sum += price(item, 0.2);',
    '  return sum;',
    '}',
    '// ... existing code ...',
  ].join('\n');
  const result = (await connection.sendRequest('caret/apply', { files: [{ textDocument: { uri, version: 7 }, sketch }], partialResultToken: 'tok-1' })) as ApplyResult;
  assert.deepEqual(result.unresolved, []);
  assert.equal(result.edit.documentChanges.length, 1);
  assert.deepEqual(result.edit.documentChanges[0]!.textDocument, { uri, version: 7 });
  const expected = service.replace('price(item) {\n  return item.cost;', 'price(item, rate) {\n  return item.cost * (1 + rate);').replace('price(item);', 'price(item, 0.2);');
  assert.equal(applyEdits(service, result.edit.documentChanges[0]!.edits), expected);
  assert.equal(result.hunks.length, 2);
  assert.deepEqual(streamed.flat(), result.hunks, 'the final result repeats every streamed hunk');
  const definition = result.hunks.find((hunk) => hunk.oldText.includes('function price'))!;
  const use = result.hunks.find((hunk) => hunk.oldText.includes('sum += price'))!;
  assert.ok(definition.order < use.order, 'the definition is read before its use');
  assert.equal(definition.importance, 'high');
  assert.ok(use.words.some((word) => word.kind === 'insert' && word.text.includes('0.2')));
  assert.equal(result.stats.strategy, 'merge');
  assert.equal(result.stats.hunks, 2);
  assert.equal(result.stats.linesAdded, 3);
  assert.equal(result.stats.linesRemoved, 3);
  // The daemon's copy is untouched: the client applies the edit.
  const text = (await connection.sendRequest('caret/document/text', { textDocument: { uri } })) as { text: string };
  assert.equal(text.text, service);
  connection.dispose();
});

test('a document not open is read from disk, versioned null, and never written', async () => {
  const connection = await client();
  const path = join(dir, 'disk.py');
  writeFileSync(path, 'def f(a):\r\n    return a\r\n\r\ndef g(b):\r\n    return b\r\n');
  const uri = pathToFileURL(path).href;
  const result = (await connection.sendRequest('caret/apply', {
    files: [{ textDocument: { uri }, sketch: '# ...\ndef g(b):\n    b = b * 2\n    return b\n' }],
  })) as ApplyResult;
  assert.deepEqual(result.edit.documentChanges[0]!.textDocument, { uri, version: null });
  assert.equal(result.hunks.length, 1);
  assert.equal(result.hunks[0]!.newText, '    b = b * 2\r\n', 'the file keeps CRLF');
  assert.equal(readFileSync(path, 'utf8'), 'def f(a):\r\n    return a\r\n\r\ndef g(b):\r\n    return b\r\n');
  connection.dispose();
});

test('positions follow the negotiated encoding (utf-8)', async () => {
  const connection = await client('utf-8');
  const result = (await connection.sendRequest('caret/diff', { oldText: 'const s = "é";\nx = 1\n', newText: 'const s = "é!";\nx = 1\n' })) as { hunks: Hunk[] };
  const insert = result.hunks[0]!.words.find((word) => word.kind === 'insert') as { range: Hunk['oldRange']; text: string };
  assert.ok(insert.text.includes('!'));
  // "const s = " is 10 bytes, the quote 1, é 2: the edit starts at byte 11 or later.
  assert.ok(insert.range.start.character >= 11);
  connection.dispose();
});

test('caret/diff returns the same hunks for any two texts', async () => {
  const connection = await client();
  const result = (await connection.sendRequest('caret/diff', { oldText: 'a\nb\nc\n', newText: 'a\nB\nc\nd\n', uri: 'untitled:1' })) as { hunks: Hunk[] };
  assert.equal(result.hunks.length, 2);
  assert.deepEqual(result.hunks[0]!.oldRange, { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } });
  assert.deepEqual(result.hunks[1]!.newRange, { start: { line: 3, character: 0 }, end: { line: 4, character: 0 } });
  assert.equal(result.hunks[0]!.uri, 'untitled:1');
  connection.dispose();
});

test('bad input gets clear answers and leaves every file alone', async () => {
  const connection = await client();
  const uri = 'file:///tmp/caret-apply-open/bad.js';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 3, text: service } });
  const apply = (files: unknown[], extra: Record<string, unknown> = {}) => connection.sendRequest('caret/apply', { files, ...extra }) as Promise<ApplyResult>;

  const empty = await apply([{ textDocument: { uri }, sketch: '' }]);
  assert.equal(empty.unresolved[0]!.kind, 'emptySketch');
  assert.deepEqual(empty.edit.documentChanges, []);

  const markers = await apply([{ textDocument: { uri }, sketch: '// ... existing code ...\n' }]);
  assert.equal(markers.unresolved[0]!.kind, 'markersOnly');

  const otherLanguage = await apply([{ textDocument: { uri }, sketch: 'fn main() {\n    println!("hi");\n}\n' }]);
  assert.equal(otherLanguage.unresolved[0]!.kind, 'noAnchors');
  assert.match(otherLanguage.unresolved[0]!.message, /another language/);

  await assert.rejects(apply([{ textDocument: { uri, version: 2 }, sketch: 'x' }]), (error: { code: number; message: string }) => {
    assert.equal(error.code, -32801, error.message);
    assert.match(error.message, /version 3.*version 2/);
    return true;
  });

  const binaryPath = join(dir, 'image.png');
  writeFileSync(binaryPath, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0xff]));
  const binary = await apply([{ textDocument: { uri: pathToFileURL(binaryPath).href }, sketch: 'hello' }]);
  assert.equal(binary.unresolved[0]!.kind, 'binary');
  assert.deepEqual(readFileSync(binaryPath), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0xff]));

  const missing = await apply([{ textDocument: { uri: pathToFileURL(join(dir, 'nope.ts')).href }, sketch: 'x' }]);
  assert.equal(missing.unresolved[0]!.kind, 'unreadable');
  assert.match(missing.unresolved[0]!.message, /does not exist/);

  await assert.rejects(apply([{ textDocument: { uri }, sketch: 'a' }, { textDocument: { uri }, sketch: 'b' }]), /named twice/);
  await assert.rejects(apply([{ textDocument: { uri }, sketch: 'a' }], { strategy: 'model' }), /needs an apply model/);
  await assert.rejects(connection.sendRequest('caret/apply', { files: [] }), (error: { code: number }) => error.code === -32602);

  // A result with more syntax errors than the document is not proposed (tree-sitter, javascript grammar).
  const broken = await apply([{ textDocument: { uri }, sketch: '// ...\nexport function report(items) {\n  console.log(total(items);\n}\n' }]);
  assert.equal(broken.unresolved[0]?.kind, 'check', JSON.stringify(broken.unresolved));
  assert.match(broken.unresolved[0]!.message, /syntax error/);
  assert.deepEqual(broken.edit.documentChanges, []);

  // One bad file does not sink the others.
  const mixed = await apply([
    { textDocument: { uri: pathToFileURL(binaryPath).href }, sketch: 'x' },
    { textDocument: { uri }, sketch: '// ...\nexport function report(items) {\n  console.log("total", total(items));\n}\n' },
  ]);
  assert.equal(mixed.unresolved.length, 1);
  assert.equal(mixed.edit.documentChanges.length, 1);
  assert.equal(mixed.edit.documentChanges[0]!.textDocument.version, 3);
  connection.dispose();
});
