// Bench counters for the chain watcher, off unless BENCH_COUNTERS=true (bench/scale.ts sets it; never
// in production): one JSON line per watcher alarm with the Durable Object calls, D1 statements and fetches made meanwhile.
//
// The counts are taken where the runtime is entered, not where the watcher thinks it calls: the D1
// statement and database prototypes, every Durable Object namespace's `get`, and the global fetch are
// wrapped once per isolate. So a tick's line covers whatever it fans out to (accounts, or whatever
// objects stand between), their own D1 reads included, with no knowledge of the watcher's insides.
// It relies on `wrangler dev` running every object of the Worker in one isolate, one event at a time;
// work the isolate does for other requests during a tick is counted too, so benches keep ticks alone.

import type { Env } from "../env";

/** What the isolate did during one tick. */
export interface TickCounts {
  /** Calls on Durable Object stubs (RPC methods and fetch). */
  doCalls: number;
  /** The same calls by method name. */
  methods: Record<string, number>;
  /** D1 statements run (a batch counts each of its statements). */
  d1Statements: number;
  /** D1 round trips: single statements plus whole batches. */
  d1Calls: number;
  /** Outgoing fetches (node RPC, explorers). */
  fetches: number;
}

/** The line's shape; bench/scale.ts parses it from the worker's output. */
export interface TickLine extends TickCounts {
  bench: "tick";
  /** The watcher's object id. */
  object: string;
  /** Start of the alarm (ms since the epoch) and its wall time. */
  start: number;
  ms: number;
}

const totals: TickCounts = { doCalls: 0, methods: {}, d1Statements: 0, d1Calls: 0, fetches: 0 };
const wrapped = new WeakSet<object>();
let fetchWrapped = false;

/** Whether the bench counters are on for this Worker. */
export function benchCounters(env: Env): boolean {
  return env.BENCH_COUNTERS === "true";
}

/**
 * With BENCH_COUNTERS=true, makes `watcher.alarm` log one TickLine per run (and installs the counters);
 * otherwise does nothing. Call it from the watcher's constructor.
 */
export function countTicks(watcher: { alarm(): Promise<void> }, ctx: DurableObjectState, env: Env): void {
  if (!benchCounters(env)) return;
  installCounters(env);
  const alarm = watcher.alarm.bind(watcher);
  watcher.alarm = async () => {
    const before = snapshot();
    const start = Date.now();
    try {
      await alarm();
    } finally {
      const line: TickLine = { bench: "tick", object: ctx.id.toString(), start, ms: Date.now() - start, ...since(before) };
      console.log(JSON.stringify(line));
    }
  };
}

function snapshot(): TickCounts {
  return { ...totals, methods: { ...totals.methods } };
}

function since(before: TickCounts): TickCounts {
  const methods: Record<string, number> = {};
  for (const [name, n] of Object.entries(totals.methods)) {
    const d = n - (before.methods[name] ?? 0);
    if (d > 0) methods[name] = d;
  }
  return {
    doCalls: totals.doCalls - before.doCalls,
    methods,
    d1Statements: totals.d1Statements - before.d1Statements,
    d1Calls: totals.d1Calls - before.d1Calls,
    fetches: totals.fetches - before.fetches,
  };
}

function installCounters(env: Env): void {
  const db = env.DB as unknown as Record<string, unknown> & { prepare(sql: string): object };
  countOn(Object.getPrototypeOf(db.prepare("SELECT 1")) as object, ["first", "run", "all", "raw"], () => {
    totals.d1Statements += 1;
    totals.d1Calls += 1;
  });
  countOn(Object.getPrototypeOf(db) as object, ["batch"], (statements) => {
    totals.d1Statements += Array.isArray(statements) ? statements.length : 1;
    totals.d1Calls += 1;
  });
  countOn(Object.getPrototypeOf(db) as object, ["exec"], () => {
    totals.d1Statements += 1;
    totals.d1Calls += 1;
  });
  for (const binding of Object.values(env)) {
    if (isNamespace(binding)) countStubsOf(Object.getPrototypeOf(binding) as object);
  }
  if (!fetchWrapped) {
    fetchWrapped = true;
    const original = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      totals.fetches += 1;
      return original(input, init);
    };
  }
}

/** Wraps the named methods of a runtime prototype (once per prototype) to call `count` first. */
function countOn(proto: object, names: string[], count: (first: unknown) => void): void {
  const target = proto as Record<string, unknown>;
  for (const name of names) {
    const original = target[name];
    if (typeof original !== "function" || wrapped.has(original)) continue;
    const counted = function (this: unknown, ...args: unknown[]) {
      count(args[0]);
      return Reflect.apply(original, this, args);
    };
    wrapped.add(counted);
    target[name] = counted;
  }
}

function isNamespace(value: unknown): value is DurableObjectNamespace {
  return typeof value === "object" && value !== null && typeof (value as { idFromName?: unknown }).idFromName === "function";
}

/** Wraps a namespace prototype's stub getters: every stub they hand out counts its calls. */
function countStubsOf(proto: object): void {
  const target = proto as Record<string, unknown>;
  for (const name of ["get", "getByName"]) {
    const original = target[name];
    if (typeof original !== "function" || wrapped.has(original)) continue;
    const counted = function (this: unknown, ...args: unknown[]) {
      return countingStub(Reflect.apply(original, this, args) as object);
    };
    wrapped.add(counted);
    target[name] = counted;
  }
}

function countingStub(stub: object): object {
  return new Proxy(stub, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]) => {
        totals.doCalls += 1;
        totals.methods[prop] = (totals.methods[prop] ?? 0) + 1;
        return Reflect.apply(value, target, args);
      };
    },
  });
}
