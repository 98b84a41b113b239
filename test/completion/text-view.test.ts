// Reading windows instead of the whole text: the views the service reads, the cache keys that
// windows make, and a typing-through hit on a workspace document that never joins its text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CompletionCache, CompletionService, SplicedView, stillReads, viewOf } from '../../daemon/completion/index.js';
import { memoryModel } from './memory-model.js';
import { DocumentStore, EditHistory, TextSnapshot } from '../../daemon/workspace/index.js';

const signal = () => new AbortController().signal;
const joined = (snapshot: TextSnapshot) => (snapshot as unknown as { joined?: string }).joined;

const instant = (answer: string, calls: { count: number }) =>
  memoryModel(() => {
    calls.count++;
    return answer;
  });

test('a spliced view reads as the spliced string, over a string or a snapshot', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.nat(70), fc.nat(70), fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: 80 }), fc.integer({ min: -5, max: 80 }), (text, a, b, inserted, from, to) => {
      const start = Math.min(a, b, text.length);
      const end = Math.min(Math.max(a, b), text.length);
      const spliced = text.slice(0, start) + inserted + text.slice(end);
      const expected = spliced.slice(Math.max(0, from), Math.max(0, to));
      for (const base of [viewOf({ text }), TextSnapshot.of(text)]) {
        const view = new SplicedView(base, start, end, inserted);
        assert.equal(view.length, spliced.length);
        assert.equal(view.slice(from, to), expected);
        assert.equal(view.text, spliced);
      }
    }),
    { numRuns: 300 },
  );
});

test('a string view clamps like a snapshot; stillReads tells a changed document', () => {
  const document = { text: 'abc' };
  const view = viewOf(document);
  assert.equal(view.slice(-2, 2), 'ab');
  assert.equal(stillReads(document, view), true);
  document.text = 'abd';
  assert.equal(stillReads(document, view), false);
  const snapshot = TextSnapshot.of('abc');
  assert.equal(stillReads({ text: 'abc', snapshot }, snapshot), true);
  assert.equal(stillReads({ text: 'abc', snapshot: TextSnapshot.of('abc') }, snapshot), false);
});

test('cache keys from the windows around the cursor equal keys from the whole prefix and suffix', () => {
  const cache = new CompletionCache({ prefixWindow: 50, suffixWindow: 20 });
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 100 }), fc.string({ minLength: 2, maxLength: 12 }), fc.nat(12), (prefix, suffix, insertText, typedCount) => {
      const prefixWindow = prefix.slice(Math.max(0, prefix.length - cache.prefixWindow));
      const suffixWindow = suffix.slice(0, cache.suffixWindow);
      assert.equal(cache.key('u', prefixWindow, suffixWindow), cache.key('u', prefix, suffix));
      // Typing-through entries stored from the windows serve the whole text typed on.
      cache.clear();
      cache.set('u', prefixWindow, suffixWindow, { insertText, replaceLength: 0, engine: 'e' });
      const typed = insertText.slice(0, 1 + (typedCount % (insertText.length - 1)));
      if (/[\r\n]/.test(typed) || !insertText.slice(typed.length).trim()) return;
      assert.equal(cache.get('u', prefix + typed, suffix)?.insertText, insertText.slice(typed.length));
    }),
    { numRuns: 300 },
  );
});

test('a typing-through hit on an open document reads windows only: the whole text is never joined', async () => {
  const store = new DocumentStore(new EditHistory());
  const uri = 'file:///big.ts';
  const lines = Array.from({ length: 3000 }, (_, i) => `const value${i} = compute(${i});`);
  const text = `${lines.join('\n')}\nconst result = \n${lines.join('\n')}\n`;
  const document = store.open({ uri, languageId: 'typescript', version: 1, text });
  const calls = { count: 0 };
  const service = new CompletionService({ history: new EditHistory(), openDocuments: () => [], models: instant('total + 1;', calls), settings: () => ({ debounceMinMs: 0 }) });
  const position = { line: 3000, character: 15 };
  const [first] = await service.inline({ sessionKey: 's', document, offset: document.offsetAt(position, 'utf-16'), trigger: 'automatic' }, signal());
  assert.equal(first?.insertText, 'total + 1;');

  // The user types "to": a keystroke's change through the store, then a request at the cursor.
  store.change(uri, 2, [{ range: { start: position, end: position }, text: 'to' }], 'utf-16');
  const typed = document.snapshot;
  const offset = document.offsetAt({ line: 3000, character: 17 }, 'utf-16');
  const [rest] = await service.inline({ sessionKey: 's', document, offset, trigger: 'automatic' }, signal());
  assert.equal(rest?.insertText, 'tal + 1;');
  assert.equal(rest?.fromCache, true);
  assert.equal(calls.count, 1);
  assert.equal(joined(typed), undefined, 'the hit read windows of the 190 KB text, not the whole of it');

  // Accepting prefetches from the whole text the suggestion was made for, typed part included.
  assert.equal(service.accepted(rest!.id), true);
  await service.idle();
  assert.equal(calls.count, 2);
  const after = document.text.slice(0, offset) + 'tal + 1;';
  assert.notEqual(service.cache.get(uri, after, document.text.slice(offset)), undefined);
});

test('an open document changed while the engine ran gets no suggestion', async () => {
  const store = new DocumentStore(new EditHistory());
  const document = store.open({ uri: 'file:///c.ts', languageId: 'typescript', version: 1, text: 'let x = \n' });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const model = memoryModel(async () => {
    await gate;
    return '1;';
  });
  const service = new CompletionService({ history: new EditHistory(), openDocuments: () => [], models: model, settings: () => ({ debounceMinMs: 0 }) });
  const pending = service.inline({ sessionKey: 's', document, offset: 8, trigger: 'invoked' }, signal());
  await new Promise((resolve) => setTimeout(resolve, 5));
  // Same version (a save carrying other text): only the snapshot tells the text changed.
  store.save(document.uri, 'let y = \n');
  release();
  assert.deepEqual(await pending, []);
});
