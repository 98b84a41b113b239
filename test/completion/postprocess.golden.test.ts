// Golden files for post-processing: each test/completion/golden/*.txt holds a document with the
// cursor (█), what an engine produced there, and what must be shown (or "(none)").
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { postprocess } from '../../daemon/completion/index.js';
import { repoRoot } from '../helpers/index.js';

const dir = join(repoRoot, 'test/completion/golden');

function parse(source: string): Record<string, string> {
  const sections: Record<string, string> = {};
  let name: string | undefined;
  let lines: string[] = [];
  for (const line of source.split('\n')) {
    const header = /^=== (\w+)$/.exec(line);
    if (header) {
      if (name) sections[name] = lines.join('\n');
      name = header[1]!;
      lines = [];
    } else if (name) lines.push(line);
  }
  if (name) sections[name] = lines.join('\n').replace(/\n$/, '');
  return sections;
}

const files = readdirSync(dir).filter((file) => file.endsWith('.txt')).sort();

test('there are golden files', () => assert.ok(files.length >= 10));

for (const file of files) {
  test(`golden: ${file}`, () => {
    const sections = parse(readFileSync(join(dir, file), 'utf8'));
    const options = sections.options ? (JSON.parse(sections.options) as { confidence?: number; minConfidence?: number; crlf?: boolean }) : {};
    let document = sections.document!;
    if (options.crlf) document = document.replace(/\n/g, '\r\n');
    const cursor = document.indexOf('█');
    assert.ok(cursor >= 0, `${file}: the document has no █ cursor`);
    const prefix = document.slice(0, cursor);
    const suffix = document.slice(cursor + 1);
    const result = postprocess({
      prefix,
      suffix,
      raw: sections.raw!,
      ...(options.confidence !== undefined && { confidence: options.confidence }),
      ...(options.minConfidence !== undefined && { minConfidence: options.minConfidence }),
    });
    if (sections.expected === '(none)') {
      assert.equal(result, null, `${file}: expected silence, got ${JSON.stringify(result)}`);
      return;
    }
    assert.ok(result, `${file}: expected a suggestion, got silence`);
    const expected = options.crlf ? sections.expected!.replace(/\n/g, '\r\n') : sections.expected!;
    assert.equal(result.insertText, expected);
    assert.equal(suffix.slice(0, result.replaceLength), sections.replaces ?? '');
  });
}
