// The method table: every method of the caret protocol, by name. Add a method by defining it in
// methods/<area>.ts and listing that module here; nothing else needs to know.
import type { NotificationSpec, RequestSpec } from './define.js';
import * as apply from './methods/apply.js';
import * as completion from './methods/completion.js';
import * as daemon from './methods/daemon.js';
import * as documents from './methods/documents.js';
import * as lifecycle from './methods/lifecycle.js';
import * as search from './methods/search.js';
import * as shadow from './methods/shadow.js';
import * as workspace from './methods/workspace.js';
import type { Static } from './schema.js';

const areas = [lifecycle, documents, workspace, daemon, completion, apply, shadow, search] as const;

type SpecsIn<A> = A extends unknown
  ? { [K in keyof A]: A[K] extends RequestSpec | NotificationSpec ? A[K] : never }[keyof A]
  : never;
type SpecUnion = SpecsIn<(typeof areas)[number]>;

export type MethodTable = { [S in SpecUnion as S extends { method: infer M extends string } ? M : never]: S };

function buildTable(): MethodTable {
  const table: Record<string, RequestSpec | NotificationSpec> = {};
  for (const area of areas) {
    for (const value of Object.values(area)) {
      if (!value || typeof value !== 'object' || !('method' in value) || !('kind' in value)) continue;
      const spec = value as RequestSpec | NotificationSpec;
      if (table[spec.method]) throw new Error(`protocol: ${spec.method} is defined twice`);
      table[spec.method] = spec;
    }
  }
  return table as unknown as MethodTable;
}

export const methodTable: MethodTable = buildTable();

export type MethodName = keyof MethodTable;
export type RequestName = { [M in MethodName]: MethodTable[M] extends { kind: 'request' } ? M : never }[MethodName];
export type NotificationName = Exclude<MethodName, RequestName>;
export type ParamsOf<M extends MethodName> = Static<MethodTable[M]['params']>;
export type ResultOf<M extends RequestName> = MethodTable[M] extends { result: infer R extends import('./schema.js').TSchema }
  ? Static<R>
  : never;

export function lookupMethod(name: string): RequestSpec | NotificationSpec | undefined {
  return Object.prototype.hasOwnProperty.call(methodTable, name)
    ? (methodTable as unknown as Record<string, RequestSpec | NotificationSpec>)[name]
    : undefined;
}

export function listMethods(): Array<RequestSpec | NotificationSpec> {
  return Object.values(methodTable) as Array<RequestSpec | NotificationSpec>;
}
