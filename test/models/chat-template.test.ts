// Local chat on the onnx provider: the model's Jinja chat template (tokenizer_config.json) rendered
// by @huggingface/jinja, tool calls parsed from the model's `<tool_call>` blocks, and chat through
// a generated model directory that ships a Qwen2.5-style template.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ChatTemplate, ModelError, ModelRegistry, OnnxProvider, ToolCallParser, createOnnxProvider, readChatTemplate, type ChatMessage, type GenerationEvent, type ModelsSettings } from '../../daemon/models/index.js';
import { defaultSystemMessage, qwenStyleChatTemplate, testCausalLm } from '../fixtures/models/index.js';

const tools = [{ name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } }];
const conversation: ChatMessage[] = [
  { role: 'system', content: 'You edit TypeScript.' },
  { role: 'user', content: 'What is in a.ts?' },
  { role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'read_file', arguments: { path: 'a.ts' } }] },
  { role: 'tool', toolCallId: 'call_0', name: 'read_file', content: 'export const a = 1;' },
  { role: 'user', content: 'Thanks.' },
];

describe('ChatTemplate', () => {
  const template = new ChatTemplate({ template: qwenStyleChatTemplate, eosToken: '<|im_end|>', origin: 'test' }, '/models/test');

  it('renders a conversation with tools, a tool call and its result exactly as the template says', () => {
    const expected =
      '<|im_start|>system\nYou edit TypeScript.\n\nFunctions you may call, one JSON signature per line:\n' +
      '{"type": "function", "function": {"name": "read_file", "description": "Read a file", "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}\n' +
      'To call one, answer with <tool_call>\n{"name": NAME, "arguments": {...}}\n</tool_call><|im_end|>\n' +
      '<|im_start|>user\nWhat is in a.ts?<|im_end|>\n' +
      '<|im_start|>assistant\n\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.ts"}}\n</tool_call><|im_end|>\n' +
      '<|im_start|>user\n<tool_response>\nexport const a = 1;\n</tool_response><|im_end|>\n' +
      '<|im_start|>user\nThanks.<|im_end|>\n' +
      '<|im_start|>assistant\n';
    assert.equal(template.render(conversation, tools), expected);
  });

  it('uses the default system message, leaves tools out when none are passed, and knows its stops', () => {
    assert.equal(
      template.render([{ role: 'user', content: 'hi' }]),
      `<|im_start|>system\n${defaultSystemMessage}<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n`,
    );
    assert.equal(template.supportsTools, true);
    assert.deepEqual(template.stops, ['<|im_end|>']);
  });

  it('reports a template that does not parse, and a conversation the template rejects', () => {
    assert.throws(
      () => new ChatTemplate({ template: '{% if messages %}unclosed', origin: '/m/tokenizer_config.json' }, '/m'),
      (error: unknown) => error instanceof ModelError && error.kind === 'misconfigured' && /chat template in \/m\/tokenizer_config.json cannot be parsed/.test(error.message),
    );
    const strict = new ChatTemplate({ template: "{%- if messages[0]['role'] != 'user' %}{{ raise_exception('the first message must be from the user') }}{%- endif %}ok", origin: 'x' }, '/m');
    assert.equal(strict.render([{ role: 'user', content: 'x' }]), 'ok');
    assert.throws(
      () => strict.render([{ role: 'assistant', content: 'x' }]),
      (error: unknown) => error instanceof ModelError && error.kind === 'rejected' && /the first message must be from the user/.test(error.message),
    );
  });
});

describe('readChatTemplate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'caret-chat-template-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a string, a named list (default and tool_use), a chat_template.jinja file, or nothing', () => {
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: 'A', eos_token: { content: '<|im_end|>' }, bos_token: null }));
    assert.deepEqual(readChatTemplate(dir), { template: 'A', eosToken: '<|im_end|>', origin: join(dir, 'tokenizer_config.json') });
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] }));
    assert.deepEqual(readChatTemplate(dir), { template: 'D', toolTemplate: 'T', origin: join(dir, 'tokenizer_config.json') });
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '</s>' }));
    assert.equal(readChatTemplate(dir), undefined);
    writeFileSync(join(dir, 'chat_template.jinja'), 'J');
    assert.deepEqual(readChatTemplate(dir), { template: 'J', eosToken: '</s>', origin: join(dir, 'chat_template.jinja') });
  });
});

describe('ToolCallParser', () => {
  const run = (pieces: string[]) => {
    const parser = new ToolCallParser();
    return [...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()];
  };

  it('turns <tool_call> blocks split across pieces into calls, streaming the text around them', () => {
    const events = run(['Let me look.', '\n<tool', '_call>\n{"name": "read_file", ', '"arguments": {"path": "a.ts"}}\n</tool_', 'call>\n<tool_call>{"name":"ls","arguments":"{\\"dir\\": \\".\\"}"}</tool_call>']);
    assert.deepEqual(events, [
      { type: 'text', text: 'Let me look.' },
      { type: 'text', text: '\n' },
      { type: 'toolCall', call: { id: 'call_0', name: 'read_file', arguments: { path: 'a.ts' } } },
      { type: 'toolCall', call: { id: 'call_1', name: 'ls', arguments: { dir: '.' } } },
    ]);
  });

  it('gives back a malformed call as text, and plain text unchanged', () => {
    assert.deepEqual(run(['<tool_call>{not json}</tool_call>']), [{ type: 'text', text: '<tool_call>{not json}</tool_call>' }]);
    assert.deepEqual(run(['a < b', ' and <tool']), [{ type: 'text', text: 'a < b' }, { type: 'text', text: ' and ' }, { type: 'text', text: '<tool' }]);
  });
});

describe('onnx provider chat', () => {
  let settings: ModelsSettings = {};
  const registry = new ModelRegistry({ settings: () => settings, cpus: 2 });
  registry.setLocalFactory(createOnnxProvider);
  after(() => registry.dispose());

  async function collect(stream: AsyncIterable<GenerationEvent>) {
    let text = '';
    let done: Extract<GenerationEvent, { type: 'done' }> | undefined;
    for await (const event of stream) {
      if (event.type === 'text') text += event.text;
      if (event.type === 'done') done = event;
    }
    return { text, done: done! };
  }

  it('a model directory with a chat template serves chat and tools through its template', async () => {
    settings = { threads: 1, chat: { provider: 'onnx', path: testCausalLm({ chat: true }), maxTokens: 6 } };
    const provider = registry.resolve('chat') as OnnxProvider;
    assert.equal(provider.capabilities.chat, true);
    assert.equal(provider.capabilities.tools, true);
    assert.match((await provider.check()).detail, /FIM, chat;/);
    const messages: ChatMessage[] = [{ role: 'system', content: 'You edit TypeScript.' }, { role: 'user', content: 'Write a function that adds two numbers.' }];
    const first = await collect(provider.chat!({ messages, tools, temperature: 0 }));
    assert.ok(first.done.usage!.completionTokens! <= 6);
    const template = new ChatTemplate({ template: qwenStyleChatTemplate, origin: 'test' }, 'test');
    // The prompt is the rendered template, tokenized without extra special tokens; the turn markers are single tokens.
    const rendered = template.render(messages, tools);
    const ids = provider.tokenizer!.encode(rendered);
    assert.equal(first.done.usage!.promptTokens, ids.length);
    assert.equal(ids.filter((id) => id === provider.causalLm()!.tokenizer.tokenToId('<|im_start|>')).length, 3);
    // The next turn extends the conversation: its prompt starts with the previous one, so the prefix cache serves it.
    const next = await collect(provider.chat!({ messages: [...messages, { role: 'assistant', content: first.text }, { role: 'user', content: 'Now subtract.' }], tools, temperature: 0 }));
    assert.ok(next.done.usage!.cachedPromptTokens! >= ids.length - 1, `cached ${next.done.usage!.cachedPromptTokens} of ${ids.length}`);
  });

  it('a base model without a chat template says chat is unsupported and what to use instead', () => {
    settings = { threads: 1, chat: { provider: 'onnx', path: testCausalLm() } };
    const provider = registry.resolve('chat');
    assert.equal(provider.capabilities.chat, false);
    assert.throws(
      () => provider.chat!({ messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => error instanceof ModelError && error.kind === 'unsupported' && /no chat template/.test(error.message) && /Instruct/.test(error.fix),
    );
  });
});
