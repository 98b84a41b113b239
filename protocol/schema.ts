// The schema vocabulary every method definition uses. TypeBox schemas are plain JSON Schema
// objects, so the same value validates messages at runtime, types handlers at compile time and
// is written out verbatim to caret.schema.json.
export { Type, type Static, type TSchema, type TObject } from '@sinclair/typebox';
import { Type, type TSchema } from '@sinclair/typebox';

/** An optional property whose value may also be null (LSP uses both spellings). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Unsigned integer, as LSP's `uinteger`. */
export const UInteger = (description?: string) =>
  Type.Integer({ minimum: 0, ...(description ? { description } : {}) });
