// `npm run gen:protocol`: writes docs/protocol.md and protocol/caret.schema.json from the table.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderJsonSchema, renderProtocolMarkdown } from './render.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const generatedFiles = {
  'docs/protocol.md': renderProtocolMarkdown,
  'protocol/caret.schema.json': renderJsonSchema,
} as const;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [path, render] of Object.entries(generatedFiles)) {
    writeFileSync(repoRoot + path, render());
    console.log(`wrote ${path}`);
  }
}
