// Over-long prompts for local models are fitted, not refused: context files go first (from the
// front, furthest from the cursor), then the cursor window loses whole lines from its far ends;
// chats lose their oldest turns; raw prompts lose their start.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fimTemplates, fitChat, fitInfill, keepEnd, keepStart, ModelError, ModelRegistry, createOnnxProvider, renderFimPrompt, type ChatMessage, type GenerationEvent, type InfillRequest, type ModelsSettings } from '../../daemon/models/index.js';
import { testCausalLm } from '../fixtures/models/index.js';

// One token per character keeps the arithmetic visible.
const count = (text: string) => text.length;
const render = (request: InfillRequest) => renderFimPrompt(fimTemplates.qwen, request);
const numbered = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');

describe('fitInfill', () => {
  const request: InfillRequest = {
    prefix: numbered(0, 40),
    suffix: numbered(40, 60),
    filename: 'a.ts',
    extra: [
      { filename: 'stable.ts', text: 'x'.repeat(300) },
      { filename: 'recent.ts', text: 'y'.repeat(100) },
    ],
  };
  const full = render(request).length;

  it('leaves a prompt that fits alone', () => {
    const fit = fitInfill(request, full, render, count);
    assert.equal(fit.request, request);
    assert.equal(fit.droppedFiles, 0);
  });

  it('drops context files from the front first', () => {
    const fit = fitInfill(request, full - 100, render, count);
    assert.deepEqual(fit.request.extra?.map((file) => file.filename), ['recent.ts']);
    assert.equal(fit.request.prefix, request.prefix);
    assert.equal(fit.request.suffix, request.suffix);
    assert.equal(fit.trimmedWindow, false);
    assert.ok(render(fit.request).length <= full - 100);
  });

  it('then cuts whole lines from the far ends of the window, keeping the lines at the cursor', () => {
    const budget = 300;
    const fit = fitInfill(request, budget, render, count);
    assert.deepEqual(fit.request.extra, []);
    assert.equal(fit.trimmedWindow, true);
    assert.ok(render(fit.request).length <= budget, `${render(fit.request).length} > ${budget}`);
    assert.ok(request.prefix.endsWith(fit.request.prefix) && fit.request.prefix.startsWith('line '), 'the prefix keeps its end, in whole lines');
    assert.ok(request.suffix.startsWith(fit.request.suffix) && (fit.request.suffix === '' || fit.request.suffix.endsWith('\n')), 'the suffix keeps its start, in whole lines');
    assert.ok(fit.request.prefix.length > fit.request.suffix.length, 'the prefix gets the larger share');
    assert.ok(fit.request.prefix.endsWith('line 39\n') && fit.request.suffix.startsWith('line 40\n'));
  });

  it('fails only when the markers alone do not fit', () => {
    assert.throws(() => fitInfill(request, 10, render, count), RangeError);
  });
});

describe('keepEnd, keepStart, fitChat', () => {
  it('keep whole lines from the chosen end, and the end of one over-long line', () => {
    assert.equal(keepEnd('aaaa\nbbbb\ncccc\n', 11, count), 'bbbb\ncccc\n');
    assert.equal(keepStart('aaaa\nbbbb\ncccc\n', 11, count), 'aaaa\nbbbb\n');
    assert.equal(keepEnd('x'.repeat(50), 10, count), 'x'.repeat(10));
  });

  it('drops the oldest turns after the system message, whole exchanges at a time, never the last user turn', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'u1'.repeat(20) },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'f', arguments: {} }] },
      { role: 'tool', toolCallId: 'c', content: 'r'.repeat(40) },
      { role: 'user', content: 'u2' },
      { role: 'assistant', content: 'a2' },
      { role: 'user', content: 'last question' },
    ];
    const renderChat = (list: readonly ChatMessage[]) => list.map((m) => `${m.role}:${m.content}`).join('\n');
    const fit = fitChat(messages, 60, renderChat, count)!;
    assert.deepEqual(fit.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.equal(fit.droppedMessages, 3);
    assert.equal(fitChat(messages, 20, renderChat, count), undefined);
  });
});

describe('onnx provider: over-long prompts are fitted, not refused', () => {
  let settings: ModelsSettings = {};
  const registry = new ModelRegistry({ settings: () => settings, cpus: 2 });
  registry.setLocalFactory(createOnnxProvider);
  after(() => registry.dispose());

  async function collect(stream: AsyncIterable<GenerationEvent>) {
    let done: Extract<GenerationEvent, { type: 'done' }> | undefined;
    for await (const event of stream) if (event.type === 'done') done = event;
    return done!;
  }

  it('infill, complete and chat with prompts far beyond contextLength', async () => {
    settings = { threads: 1, completion: { provider: 'onnx', path: testCausalLm(), contextLength: 256, maxTokens: 8 }, chat: { provider: 'onnx', path: testCausalLm({ chat: true }), contextLength: 256, maxTokens: 8 } };
    const provider = registry.resolve('completion');
    const long = Array.from({ length: 400 }, (_, i) => `const value${i} = compute(${i});\n`).join('');
    const infill = await collect(provider.infill!({ prefix: long, suffix: long, filename: 'big.ts', extra: [{ filename: 'other.ts', text: long }], maxTokens: 8, temperature: 0 }));
    assert.ok(infill.usage!.promptTokens! <= 256 - 8, `prompt ${infill.usage!.promptTokens} tokens`);
    assert.ok(infill.usage!.promptTokens! > 100, 'the budget is used, not emptied');
    const complete = await collect(provider.complete!({ prompt: long, maxTokens: 8, temperature: 0 }));
    assert.ok(complete.usage!.promptTokens! <= 248);

    const chat = registry.resolve('chat');
    const history: ChatMessage[] = [];
    for (let i = 0; i < 30; i++) history.push({ role: 'user', content: `question ${i}: ${long.slice(0, 200)}` }, { role: 'assistant', content: `answer ${i}` });
    const answered = await collect(chat.chat!({ messages: [{ role: 'system', content: 'Be brief.' }, ...history, { role: 'user', content: 'And now?' }], maxTokens: 8, temperature: 0 }));
    assert.ok(answered.usage!.promptTokens! <= 248);

    await assert.rejects(
      collect(chat.chat!({ messages: [{ role: 'user', content: long }], maxTokens: 8 })),
      (error: unknown) => error instanceof ModelError && error.kind === 'rejected' && /last user message/.test(error.message) && /contextLength/.test(error.fix),
    );
  });
});
