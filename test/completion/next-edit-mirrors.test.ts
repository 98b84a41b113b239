// The builtin next edit's mirror rules (an added import joins the list of its siblings, an added
// field is passed on beside its siblings): each states what the user did and which site (and only
// which) is proposed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type OffsetEdit, propagateEdit } from '../../daemon/completion/index.js';

/** Proposals after `line` was inserted (a whole new line) at the start of line `lineNo` of `after`. */
function afterInsertedLine(after: string, line: string, languageId = 'typescript') {
  const at = after.indexOf(`${line}\n`);
  assert.ok(at >= 0, 'the inserted line stands in the text');
  const document = { uri: 'file:///index.ts', languageId, version: 2, text: after };
  return propagateEdit({ edit: { uri: document.uri, offset: at, deletedText: '', insertedText: `${line}\n` }, document, cursorOffset: at, others: [] });
}

const apply = (text: string, edits: readonly OffsetEdit[]) =>
  [...edits].sort((a, b) => b.start - a.start).reduce((t, e) => t.slice(0, e.start) + e.newText + t.slice(e.end), text);

const routes = [
  "import type { Routes } from '../context.js';",
  "import { applyRoutes } from './apply.js';",
  "import { daemonRoutes } from './daemon.js';",
  "import { searchRoutes } from './search.js';",
  "import { shadowRoutes } from './shadow.js';",
  '',
  '// Registered: [applyRoutes, daemonRoutes]',
  'export const groups: Routes[] = [applyRoutes, daemonRoutes, shadowRoutes];',
  '',
].join('\n');

test('next edit: a module imported beside siblings that a list names joins the list', () => {
  const proposals = afterInsertedLine(routes, "import { searchRoutes } from './search.js';");
  // The comment's list is prose; the code's list gains the new name at its end.
  assert.deepEqual(proposals.map((p) => apply(routes, p.edits)), [routes.replace('daemonRoutes, shadowRoutes]', 'daemonRoutes, shadowRoutes, searchRoutes]')]);
  // Namespace imports and a list of them, and a name added to an existing import line.
  const table = "import * as apply from './apply.js';\nimport * as daemon from './daemon.js';\nimport * as shadow from './shadow.js';\nconst areas = [apply, daemon] as const;\n";
  const namespaced = afterInsertedLine(table, "import * as shadow from './shadow.js';");
  assert.deepEqual(namespaced.map((p) => apply(table, p.edits)), [table.replace('[apply, daemon]', '[apply, daemon, shadow]')]);
});

test('next edit: an import does not join a list of other things', () => {
  // One item is not imported (a local): the list is not a list of modules.
  const local = "import { applyRoutes } from './apply.js';\nimport { searchRoutes } from './search.js';\nconst extra = 1;\nconst all = [applyRoutes, extra];\n";
  assert.deepEqual(afterInsertedLine(local, "import { searchRoutes } from './search.js';"), []);
  // Items imported another way (default imports) than the new name (a named import).
  const defaults = "import apply from './apply.js';\nimport daemon from './daemon.js';\nimport { searchRoutes } from './search.js';\nconst all = [apply, daemon];\n";
  assert.deepEqual(afterInsertedLine(defaults, "import { searchRoutes } from './search.js';"), []);
  // Already listed.
  const listed = "import { applyRoutes } from './apply.js';\nimport { searchRoutes } from './search.js';\nconst all = [applyRoutes, searchRoutes];\n";
  assert.deepEqual(afterInsertedLine(listed, "import { searchRoutes } from './search.js';"), []);
  // A type-only import names no value a list can hold.
  const types = "import { applyRoutes } from './apply.js';\nimport { daemonRoutes } from './daemon.js';\nimport type { Search } from './search.js';\nconst all = [applyRoutes, daemonRoutes];\n";
  assert.deepEqual(afterInsertedLine(types, "import type { Search } from './search.js';"), []);
});

test('next edit: Python and require() imports join lists of their siblings', () => {
  const python = 'from .auth import basic\nfrom .auth import digest\nfrom .auth import bearer\n\nSCHEMES = [basic, digest]\n';
  const proposals = afterInsertedLine(python, 'from .auth import bearer', 'python');
  assert.deepEqual(proposals.map((p) => apply(python, p.edits)), [python.replace('[basic, digest]', '[basic, digest, bearer]')]);
  const commonjs = "var json = require('./json');\nvar raw = require('./raw');\nvar text = require('./text');\nexports.parsers = [json, raw];\n";
  const required = afterInsertedLine(commonjs, "var text = require('./text');", 'javascript');
  assert.deepEqual(required.map((p) => apply(commonjs, p.edits)), [commonjs.replace('[json, raw]', '[json, raw, text]')]);
});

const options = [
  'export interface Options {',
  '  /** Halves the size. */',
  '  float16?: boolean;',
  '  /** Adds the cache input. */',
  '  merged?: boolean;',
  '  signal?: AbortSignal;',
  '}',
  '',
  'export function build(options: Options) {',
  '  const graph = make({ float16: options.float16 ?? false });',
  '  const other = make({ float16: settings.float16, size: 2 });',
  '  return run(graph, options.signal ? { signal: options.signal } : {});',
  '}',
  '',
].join('\n');

test('next edit: a field added to a declaration is passed on where its siblings are, the same way', () => {
  const line = '  merged?: boolean;';
  const at = options.indexOf(`${line}\n`);
  const document = { uri: 'file:///build.ts', languageId: 'typescript', version: 2, text: options };
  const proposals = propagateEdit({ edit: { uri: document.uri, offset: at, deletedText: '', insertedText: `${line}\n` }, document, cursorOffset: at, others: [] });
  // Not the literal that also holds a non-field (`size: 2`), nor the branch passing one field when set.
  assert.deepEqual(proposals.map((p) => apply(options, p.edits)), [options.replace('{ float16: options.float16 ?? false }', '{ float16: options.float16 ?? false, merged: options.merged ?? false }')]);
  // A line that is not a field declaration (a statement in a function body) mirrors nothing.
  const statement = '  const merged = true;';
  const body = options.replace('  const graph', `${statement}\n  const graph`);
  const bodyAt = body.indexOf(`${statement}\n`);
  const inBody = propagateEdit({ edit: { uri: document.uri, offset: bodyAt, deletedText: '', insertedText: `${statement}\n` }, document: { ...document, text: body }, cursorOffset: bodyAt, others: [] });
  assert.deepEqual(inBody.filter((p) => p.reason.startsWith('pass')), []);
});

test('next edit: a name imported that the file still defines: the local definition, with its comment, goes', () => {
  const after = [
    "import { join } from 'node:path';",
    "export { isLoopbackUrl } from './loopback.js';",
    '',
    '/** True for loopback hosts. */',
    'export function isLoopbackUrl(url: string): boolean {',
    "  return url.startsWith('http://127.');",
    '}',
    '',
    'export const base = join(root, "x");',
    '',
  ].join('\n');
  const proposals = afterInsertedLine(after, "export { isLoopbackUrl } from './loopback.js';");
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace("/** True for loopback hosts. */\nexport function isLoopbackUrl(url: string): boolean {\n  return url.startsWith('http://127.');\n}\n\n", '')]);
  // Python: the function's indented body goes with it.
  const py = 'from .loopback import is_loopback\n\ndef is_loopback(url):\n    return url.startswith("http://127.")\n\nBASE = 1\n';
  const pyProposals = afterInsertedLine(py, 'from .loopback import is_loopback', 'python');
  assert.deepEqual(pyProposals.map((p) => apply(py, p.edits)), ['from .loopback import is_loopback\n\nBASE = 1\n']);
  // Quotes inside a regular expression do not hide where the function ends.
  const quoted = "import { quotes } from './quotes.js';\n\nexport function quotes(line) {\n  return (line.match(/\"\"\"|'''/g) ?? []).length;\n}\n\nexport const after = 1;\n";
  const quotedProposals = afterInsertedLine(quoted, "import { quotes } from './quotes.js';");
  assert.deepEqual(quotedProposals.map((p) => apply(quoted, p.edits)), ["import { quotes } from './quotes.js';\n\nexport const after = 1;\n"]);
  // A name imported that the file only uses: nothing to remove.
  const used = "import { join } from 'node:path';\nexport const base = join(root, 'x');\n";
  assert.deepEqual(afterInsertedLine(used, "import { join } from 'node:path';"), []);
});

test('next edit: a property added beside a spread base joins the other literals spreading it, at the same place', () => {
  const line = '      sources: [request.uri],';
  const after = [
    'function run(request) {',
    '  if (chat) {',
    '    stream = provider.chat({',
    '      ...generation,',
    '      messages: toMessages(request),',
    line,
    '      ...(cached && { prediction: request.original }),',
    '    });',
    '  } else {',
    '    stream = provider.complete({ ...generation, prompt: toPrompt(request), stop: [END] });',
    '    other({ ...defaults, prompt: toPrompt(request) });',
    '    again({ ...generation, sources: [], prompt: x });',
    '  }',
    '}',
    '',
  ].join('\n');
  const at = after.indexOf(`${line}\n`);
  const document = { uri: 'file:///run.ts', languageId: 'typescript', version: 2, text: after };
  const proposals = propagateEdit({ edit: { uri: document.uri, offset: at, deletedText: '', insertedText: `${line}\n` }, document, cursorOffset: at, others: [] });
  // After one entry, as in the edited literal; not another base's literal, not one that has it.
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('prompt: toPrompt(request), stop: [END]', 'prompt: toPrompt(request), sources: [request.uri], stop: [END]')]);
});

test('next edit: a constant imported beside a function the file calls once with no arguments becomes its argument', () => {
  const before = "import { lowerPriority } from './priority.js';\n\nlowerPriority();\nstart();\n";
  const after = before.replace('{ lowerPriority }', '{ lowerPriority, PARSE_NICE }');
  const at = after.indexOf(', PARSE_NICE');
  const document = { uri: 'file:///w.ts', languageId: 'typescript', version: 2, text: after };
  const proposals = propagateEdit({ edit: { uri: document.uri, offset: at, deletedText: '', insertedText: ', PARSE_NICE' }, document, cursorOffset: at, others: [] });
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('lowerPriority();', 'lowerPriority(PARSE_NICE);')]);
  // Called twice: which call takes it is not known.
  const twice = after.replace('start();', 'lowerPriority();');
  const again = propagateEdit({ edit: { uri: document.uri, offset: at, deletedText: '', insertedText: ', PARSE_NICE' }, document: { ...document, text: twice }, cursorOffset: at, others: [] });
  assert.deepEqual(again.filter((p) => p.reason.startsWith('pass')), []);
});

test('next edit: a list of calls of one module\'s functions, all passing the same arguments, gains a call of the new one', () => {
  const before = [
    "import { listRule, movedRule } from './import-rules.js';",
    "import { fieldRule } from './field-rules.js';",
    '',
    'const imported = inTurn(listRule(change), movedRule(change));',
    'const fields = inTurn(fieldRule(change), movedRule(change));',
    '',
  ].join('\n');
  const after = before.replace('{ listRule, movedRule }', '{ constantRule, listRule, movedRule }');
  const at = after.indexOf('constantRule');
  const document = { uri: 'file:///p.ts', languageId: 'typescript', version: 2, text: after };
  const proposals = propagateEdit({ edit: { uri: document.uri, offset: at, deletedText: '', insertedText: 'constantRule, ' }, document, cursorOffset: at, others: [] });
  // Not the list mixing another module's function (`fieldRule`).
  assert.deepEqual(proposals.map((p) => apply(after, p.edits)), [after.replace('inTurn(listRule(change), movedRule(change))', 'inTurn(listRule(change), movedRule(change), constantRule(change))')]);
});
