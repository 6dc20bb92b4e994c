// Fault injection for worker tests: a real D1 database whose n-th operation (a statement run or a
// batch) fails, so a test can break every await of a code path in turn and check what survives.

const REAL = Symbol("real statement");
const TERMINAL = new Set(["all", "raw", "run", "first"]);

export interface FaultyD1 {
  /** The database to hand to the code under test. */
  readonly db: D1Database;
  /** Operations run so far. */
  readonly operations: number;
  /** Makes operation number `n` (counted from now, 1-based) fail; null never fails. */
  failAt(n: number | null): void;
}

export function faultyD1(real: D1Database): FaultyD1 {
  let operations = 0;
  let failing: number | null = null;
  const step = (what: string) => {
    operations += 1;
    if (failing !== null && operations === failing) throw new Error(`injected D1 failure at operation ${operations} (${what})`);
  };
  const statement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === REAL) return target;
        if (prop === "bind") return (...values: unknown[]) => statement(target.bind(...values));
        if (typeof prop === "string" && TERMINAL.has(prop)) {
          return async (...args: unknown[]) => {
            step(prop);
            return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => statement(target.prepare(sql));
      if (prop === "batch") {
        return async (stmts: D1PreparedStatement[]) => {
          step("batch");
          return target.batch(stmts.map((s) => (s as unknown as Record<symbol, D1PreparedStatement>)[REAL] ?? s));
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db,
    get operations() {
      return operations;
    },
    failAt(n) {
      failing = n === null ? null : operations + n;
    },
  };
}
