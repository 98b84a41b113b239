// Chat templates of local models: the Jinja template a model ships in tokenizer_config.json
// (`chat_template`, a string or a list of named templates), in chat_template.jinja, or in
// chat_template.json, rendered the way Hugging Face's `apply_chat_template` renders it, by
// @huggingface/jinja (Hugging Face's own pure-JavaScript Jinja for exactly these templates).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { ModelError } from './errors.js';
import type { ChatMessage, ToolDefinition } from './provider.js';

export interface ChatTemplateSource {
  /** The template used when no tools are passed. */
  template: string;
  /** A `tool_use` template, when the model ships one separately. */
  toolTemplate?: string;
  /** Special-token strings templates refer to (`bos_token`, `eos_token`). */
  bosToken?: string;
  eosToken?: string;
  /** Where the template was found, for error messages. */
  origin: string;
}

function tokenString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  // Older configs store AddedToken objects: {"content": "<s>", ...}.
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

function readJsonObject(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Picks the default and tool-use templates from a `chat_template` value (string or named list). */
function pickTemplates(value: unknown): { template?: string; toolTemplate?: string } {
  if (typeof value === 'string') return { template: value };
  if (!Array.isArray(value)) return {};
  const named = new Map<string, string>();
  for (const entry of value as Array<{ name?: unknown; template?: unknown }>) {
    if (typeof entry?.name === 'string' && typeof entry.template === 'string') named.set(entry.name, entry.template);
  }
  const template = named.get('default') ?? named.values().next().value;
  const toolTemplate = named.get('tool_use');
  return { ...(template ? { template } : {}), ...(toolTemplate ? { toolTemplate } : {}) };
}

/** The chat template of a model directory, or undefined when the model has none (a base model). */
export function readChatTemplate(tokenizerDir: string): ChatTemplateSource | undefined {
  const config = readJsonObject(join(tokenizerDir, 'tokenizer_config.json')) ?? {};
  const tokens = {
    ...(tokenString(config.bos_token) ? { bosToken: tokenString(config.bos_token)! } : {}),
    ...(tokenString(config.eos_token) ? { eosToken: tokenString(config.eos_token)! } : {}),
  };
  const fromConfig = pickTemplates(config.chat_template);
  if (fromConfig.template) return { template: fromConfig.template, ...(fromConfig.toolTemplate ? { toolTemplate: fromConfig.toolTemplate } : {}), ...tokens, origin: join(tokenizerDir, 'tokenizer_config.json') };
  // Newer exports keep the template in a file of its own.
  const jinjaFile = join(tokenizerDir, 'chat_template.jinja');
  if (existsSync(jinjaFile)) return { template: readFileSync(jinjaFile, 'utf8'), ...tokens, origin: jinjaFile };
  const jsonFile = join(tokenizerDir, 'chat_template.json');
  const fromJson = pickTemplates(readJsonObject(jsonFile)?.chat_template);
  if (fromJson.template) return { template: fromJson.template, ...(fromJson.toolTemplate ? { toolTemplate: fromJson.toolTemplate } : {}), ...tokens, origin: jsonFile };
  return undefined;
}

// End-of-turn markers of the common template families; a template that writes one ends its turns
// with it, so generation stops there even when generation_config.json does not list its id.
const turnEnds = ['<|im_end|>', '<|eot_id|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '</s>', '<|end_of_turn|>'];

/** caret's messages in the shape Hugging Face templates expect (OpenAI-style tool calls). */
export function templateMessages(messages: readonly ChatMessage[]): Array<Record<string, unknown>> {
  return messages.map((message) => {
    switch (message.role) {
      case 'assistant':
        return {
          role: 'assistant',
          content: message.content,
          ...(message.toolCalls?.length
            ? { tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })) }
            : {}),
        };
      case 'tool':
        return { role: 'tool', content: message.content, tool_call_id: message.toolCallId, ...(message.name ? { name: message.name } : {}) };
      default:
        return { role: message.role, content: message.content };
    }
  });
}

export class ChatTemplate {
  private readonly plain: Template;
  private readonly withTools?: Template;
  /** The template renders tool definitions (it refers to `tools`). */
  readonly supportsTools: boolean;
  /** Strings that end an assistant turn: generation stops before them. */
  readonly stops: string[];

  constructor(private readonly source: ChatTemplateSource, private readonly endpoint: string) {
    this.plain = this.parse(source.template);
    if (source.toolTemplate) this.withTools = this.parse(source.toolTemplate);
    const texts = [source.template, source.toolTemplate ?? ''].join('\n');
    this.supportsTools = /\btools\b/.test(texts);
    this.stops = turnEnds.filter((marker) => texts.includes(marker) || marker === source.eosToken);
    if (source.eosToken && !this.stops.includes(source.eosToken)) this.stops.push(source.eosToken);
  }

  private parse(text: string): Template {
    try {
      return new Template(text);
    } catch (error) {
      throw new ModelError({
        kind: 'misconfigured',
        provider: 'onnx',
        endpoint: this.endpoint,
        message: `the chat template in ${this.source.origin} cannot be parsed (${(error as Error).message})`,
        fix: 'Restore tokenizer_config.json from the original model, or use an HTTP provider for chat',
        cause: error,
      });
    }
  }

  /** The prompt text for a conversation, ending with the assistant's turn opened. */
  render(messages: readonly ChatMessage[], tools?: readonly ToolDefinition[]): string {
    const template = tools?.length && this.withTools ? this.withTools : this.plain;
    try {
      return template.render({
        messages: templateMessages(messages),
        ...(tools?.length ? { tools: tools.map((tool) => ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } })) } : {}),
        add_generation_prompt: true,
        bos_token: this.source.bosToken ?? '',
        eos_token: this.source.eosToken ?? '',
      });
    } catch (error) {
      // Templates reject conversations they cannot express (raise_exception), e.g. roles out of order.
      throw new ModelError({
        kind: 'rejected',
        provider: 'onnx',
        endpoint: this.endpoint,
        message: `the model's chat template rejected the conversation: ${(error as Error).message}`,
        fix: 'Send messages this model supports (most templates want alternating user and assistant turns after an optional system message)',
        cause: error,
      });
    }
  }
}
