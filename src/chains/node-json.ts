// Shape checks for what a node sends back. A node that answers with the wrong shape is broken or lying, so
// each reader throws the error the caller passes in (its own "garbage: try another node" error).

const HASH_RE = /^[0-9a-f]{64}$/;

export const isHash = (value: unknown): value is string => typeof value === "string" && HASH_RE.test(value);

export function nodeJsonReaders(garbage: (message: string) => Error) {
  return {
    asObject(value: unknown, where: string): Record<string, unknown> {
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw garbage(`${where}: not an object`);
      return value as Record<string, unknown>;
    },

    asArray(value: unknown, where: string): unknown[] {
      if (!Array.isArray(value)) throw garbage(`${where}: not an array`);
      return value;
    },

    asHash(value: unknown, where: string): string {
      if (!isHash(value)) throw garbage(`${where}: not a 64-char lowercase hex hash`);
      return value;
    },

    asBoolean(value: unknown, where: string): boolean {
      if (typeof value !== "boolean") throw garbage(`${where}: not a boolean`);
      return value;
    },

    asString(value: unknown, where: string): string {
      if (typeof value !== "string") throw garbage(`${where}: not a string`);
      return value;
    },
  };
}
