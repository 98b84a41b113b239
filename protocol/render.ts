// Renders the method table as docs/protocol.md and as a JSON Schema file. Pure: the generator
// (generate.ts) writes the strings, and a test compares them with the files in the repository.
import type { MethodSpec } from './define.js';
import { ErrorCodes, errorCodeDocs } from './errors.js';
import type { TSchema } from './schema.js';
import { listMethods } from './table.js';
import { PROTOCOL_VERSION } from './version.js';

type Json = Record<string, unknown>;

/** A schema as a TypeScript-like type expression, for people to read. */
export function schemaToTypeText(schema: Json, indent = ''): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).map((s) => schemaToTypeText(s, indent)).join(' | ');
  switch (schema.type) {
    case 'string':
    case 'boolean':
    case 'null':
      return schema.type;
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'array': {
      const item = schemaToTypeText((schema.items as Json) ?? {}, indent);
      return /[| ]/.test(item) && !item.startsWith('{') ? `(${item})[]` : `${item}[]`;
    }
    case 'object': {
      const props = (schema.properties as Record<string, Json> | undefined) ?? {};
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const pattern = schema.patternProperties as Record<string, Json> | undefined;
      const inner = indent + '  ';
      const lines = Object.entries(props).map(([name, prop]) => {
        const comment = typeof prop.description === 'string' ? ` // ${prop.description}` : '';
        return `${inner}${name}${required.has(name) ? '' : '?'}: ${schemaToTypeText(prop, inner)};${comment}`;
      });
      if (pattern) {
        for (const value of Object.values(pattern)) lines.push(`${inner}[key: string]: ${schemaToTypeText(value, inner)};`);
      }
      return lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n${indent}}`;
    }
    default:
      return 'unknown';
  }
}

function section(spec: MethodSpec): string {
  const kind = spec.kind === 'request' ? 'request' : 'notification';
  const direction = spec.direction === 'clientToServer' ? 'client → server' : 'server → client';
  const parts = [
    `### \`${spec.method}\``,
    '',
    `*${kind}, ${direction}, since ${spec.since}${spec.beforeInitialize ? ', allowed before initialize' : ''}*`,
    '',
    spec.doc,
    '',
    'Params:',
    '',
    '```ts',
    schemaToTypeText(spec.params as unknown as Json),
    '```',
  ];
  if (spec.kind === 'request') {
    parts.push('', 'Result:', '', '```ts', schemaToTypeText(spec.result as unknown as Json), '```');
    if (spec.partialResult) {
      parts.push('', 'Partial results (`$/progress` values):', '', '```ts', schemaToTypeText(spec.partialResult as unknown as Json), '```');
    }
  }
  return parts.join('\n');
}

const groupOf = (method: string): string => {
  if (method.startsWith('caret/')) return `caret/${method.split('/')[1]}`;
  if (method.startsWith('textDocument/')) return 'textDocument';
  if (method.startsWith('workspace/')) return 'workspace';
  return 'lifecycle and plumbing';
};

export function renderProtocolMarkdown(): string {
  const methods = listMethods();
  const groups = new Map<string, MethodSpec[]>();
  for (const spec of methods) {
    const group = groupOf(spec.method);
    groups.set(group, [...(groups.get(group) ?? []), spec]);
  }
  const errorRows = Object.entries(ErrorCodes).map(
    ([name, code]) => `| ${code} | ${name} | ${errorCodeDocs[name as keyof typeof ErrorCodes]} |`,
  );
  const out = [
    '# caret protocol reference',
    '',
    `<!-- Generated from protocol/ by \`npm run gen:protocol\`; do not edit by hand. -->`,
    '',
    `Protocol version **${PROTOCOL_VERSION}**. JSON-RPC 2.0, shaped after LSP 3.18. Transports, framing, ` +
      'sessions and security are described in [architecture.md](architecture.md); this page lists every ' +
      'method and error code. The same table is available as JSON Schema in `protocol/caret.schema.json`.',
    '',
    'Positions use the encoding negotiated in `initialize` (utf-16 unless the client asks for utf-8 or ' +
      'utf-32). Objects may carry properties not listed here; within a major version the protocol only grows.',
    '',
    '## Error codes',
    '',
    '| code | name | meaning |',
    '| --- | --- | --- |',
    ...errorRows,
    '',
    '## Methods',
    '',
    ...[...groups.keys()].map((group) => `- ${group}: ${groups.get(group)!.map((s) => `\`${s.method}\``).join(', ')}`),
  ];
  for (const [group, specs] of groups) {
    out.push('', `## ${group}`, '');
    for (const spec of specs) out.push(section(spec), '');
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

export function renderJsonSchema(): string {
  const definitions: Record<string, unknown> = {};
  for (const spec of listMethods()) {
    const properties: Record<string, TSchema> = { params: spec.params };
    if (spec.kind === 'request') properties.result = spec.result;
    if (spec.kind === 'request' && spec.partialResult) properties.partialResult = spec.partialResult;
    definitions[spec.method] = {
      description: spec.doc,
      'x-kind': spec.kind,
      'x-direction': spec.direction,
      'x-since': spec.since,
      type: 'object',
      properties,
    };
  }
  const document = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `caret protocol ${PROTOCOL_VERSION}`,
    description: 'Params and result schemas of every caret JSON-RPC method, by method name.',
    'x-protocol-version': PROTOCOL_VERSION,
    'x-error-codes': ErrorCodes,
    definitions,
  };
  return JSON.stringify(document, null, 2) + '\n';
}
