// Fault injection for worker tests: a real D1 database whose n-th operation (a statement run or a
// batch) fails, before it runs or after it ran (its answer lost), so a test can break every await of
// a code path in turn and check what survives.

const REAL = Symbol("real statement");
const TERMINAL = new Set(["all", "raw", "run", "first"]);

export interface FaultyD1 {
  /** The database to hand to the code under test. */
  readonly db: D1Database;
  /** Operations run so far. */
  readonly operations: number;
  /** Batches run so far (each is also an operation). */
  readonly batches: number;
  /** The number of statements of each batch run so far. */
  readonly batchSizes: readonly number[];
  /** Makes operation number `n` (counted from now, 1-based) fail without running; null never fails. */
  failAt(n: number | null): void;
  /** Makes operation number `n` (counted from now, 1-based) run, then fail as if its answer was lost. */
  loseAnswerAt(n: number): void;
}

export function faultyD1(real: D1Database): FaultyD1 {
  let operations = 0;
  let batches = 0;
  const batchSizes: number[] = [];
  let failing: { at: number; afterRunning: boolean } | null = null;
  /** Counts one operation and runs it, failing it before or after as told. */
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    operations += 1;
    const fails = failing !== null && operations === failing.at;
    const failure = () => new Error(`injected D1 failure at operation ${operations} (${what})`);
    if (fails && !failing!.afterRunning) throw failure();
    const result = await run();
    if (fails) throw failure();
    return result;
  };
  const statement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === REAL) return target;
        if (prop === "bind") return (...values: unknown[]) => statement(target.bind(...values));
        if (typeof prop === "string" && TERMINAL.has(prop)) {
          return (...args: unknown[]) => step(prop, async () => (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args));
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => statement(target.prepare(sql));
      if (prop === "batch") {
        return (stmts: D1PreparedStatement[]) => {
          batches += 1;
          batchSizes.push(stmts.length);
          return step("batch", () => target.batch(stmts.map((s) => (s as unknown as Record<symbol, D1PreparedStatement>)[REAL] ?? s)));
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
    get batches() {
      return batches;
    },
    get batchSizes() {
      return batchSizes;
    },
    failAt(n) {
      failing = n === null ? null : { at: operations + n, afterRunning: false };
    },
    loseAnswerAt(n) {
      failing = { at: operations + n, afterRunning: true };
    },
  };
}
