// Completion through a chat model (providers without fill-in-the-middle): the cursor is marked in
// the file and the model answers only the text to insert. Pure.
import type { ChatMessage } from '../../models/index.js';
import type { ContextFile } from '../../models/index.js';

export const CURSOR_MARKER = '<CURSOR>';

export function renderChatCompletion(input: { filename: string; languageId: string; prefix: string; suffix: string; extra: readonly ContextFile[] }): ChatMessage[] {
  const context = input.extra.map((chunk) => `File ${chunk.filename}:\n\`\`\`\n${chunk.text}\n\`\`\``).join('\n\n');
  return [
    {
      role: 'system',
      content:
        'You are a code completion engine. Reply with exactly the text to insert at ' +
        `${CURSOR_MARKER}: no explanation, no code fences, no repetition of the text around it. ` +
        'Complete the current line, and the rest of the block only when it is obvious. Reply with nothing if unsure.',
    },
    {
      role: 'user',
      content:
        (context ? `${context}\n\n` : '') +
        `File ${input.filename} (${input.languageId}):\n\`\`\`\n${input.prefix}${CURSOR_MARKER}${input.suffix}\n\`\`\``,
    },
  ];
}

/** Cleans a chat answer: code fences, an echoed cursor marker, an echoed current line. */
export function parseChatCompletion(answer: string, linePrefix: string): string {
  let text = answer;
  const fenced = /```[\w-]*\n?([\s\S]*?)(?:```|$)/.exec(text);
  if (fenced) text = fenced[1]!;
  text = text.replace(CURSOR_MARKER, '');
  const typed = linePrefix.trimStart();
  if (typed.trim() && text.trimStart().startsWith(typed)) text = text.trimStart().slice(typed.length);
  else if (typed.trim() && text.trimStart().startsWith(typed.trimEnd())) text = text.trimStart().slice(typed.trimEnd().length).replace(/^[ \t]+/, '');
  return text.replace(/\n$/, '');
}
