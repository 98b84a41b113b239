// Turning a rendered prompt into what providers take: the parts of an infill request (context
// files in their stable order, then prefix and suffix), or one text for chat and raw prompts.
import type { ContextFile, InfillRequest } from '../models/index.js';
import type { RenderedPrompt } from './render.js';

const kindLabel = { recentEdit: 'recent edit', openFile: 'open file', indexResult: 'search result', definition: 'definition', instruction: '', cursorWindow: '' } as const;

/** Context files for llama.cpp's input_extra or a FIM template's file separators. Group headers are left out. */
export function toContextFiles(rendered: RenderedPrompt): ContextFile[] {
  const files: ContextFile[] = [];
  for (const block of rendered.blocks) {
    if (block.type !== 'element') continue;
    const { element } = block;
    const name = element.path ?? element.id;
    // A labelled name keeps the file's own path beside it, for the send policy's ignore check.
    if (element.kind === 'recentEdit') files.push({ filename: `${name} (${kindLabel.recentEdit})`, text: element.text, ...(element.path ? { path: element.path } : {}) });
    else files.push({ filename: name, text: element.text });
  }
  return files;
}

/** The parts of an infill request; the caller adds sampling settings and the signal. */
export function toInfillParts(rendered: RenderedPrompt): Pick<InfillRequest, 'prefix' | 'suffix' | 'filename' | 'extra'> {
  return {
    prefix: rendered.cursor?.prefix ?? '',
    suffix: rendered.cursor?.suffix ?? '',
    ...(rendered.cursor ? { filename: rendered.cursor.path } : {}),
    extra: toContextFiles(rendered),
  };
}

/**
 * One text: headers as written, each element in a `<file>` block naming its path and kind, and
 * the cursor window last with `cursorMarker` where the cursor is.
 */
export function toPromptText(rendered: RenderedPrompt, cursorMarker = '<|cursor|>'): string {
  const parts: string[] = [];
  for (const block of rendered.blocks) {
    if (block.type === 'header') {
      parts.push(block.text);
      continue;
    }
    const { element } = block;
    if (element.kind === 'instruction') {
      parts.push(element.text);
      continue;
    }
    const lines = element.lines ? ` lines="${element.lines.start + 1}-${element.lines.end}"` : '';
    parts.push(`<file path="${element.path ?? element.id}" kind="${kindLabel[element.kind]}"${lines}>\n${element.text}${element.text.endsWith('\n') ? '' : '\n'}</file>`);
  }
  if (rendered.cursor) parts.push(`<file path="${rendered.cursor.path}" kind="current">\n${rendered.cursor.prefix}${cursorMarker}${rendered.cursor.suffix}\n</file>`);
  return parts.join('\n');
}
