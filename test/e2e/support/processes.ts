// Child processes and temp dirs of the regtest harnesses: launched with their output in a log, awaited until
// they answer, stopped one by one; whatever a crashed test leaves running is killed when the test process ends.
// Used by litecoin-regtest.ts and monero-regtest.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, rmSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";

export interface Launched {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  hasExited(): boolean;
  /** The last lines of its stdout and log file, for an error message. */
  logTail(): Promise<string>;
}

/** Children and temp dirs not yet released. If the test process ends first (normal exit, or the SIGTERM
 * vitest sends its workers), they are killed and removed synchronously. */
const orphans = { children: new Set<ChildProcess>(), dirs: new Set<string>() };
const TERMINATING_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

function reapOrphans(): void {
  for (const child of orphans.children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  for (const dir of orphans.dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  orphans.children.clear();
  orphans.dirs.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  reapOrphans();
  uninstallReaper();
  // With our listener gone, the default action (exit) applies again, unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

let reaperInstalled = false;
function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  process.on("exit", reapOrphans);
  for (const signal of TERMINATING_SIGNALS) process.on(signal, onTerminatingSignal);
}

function uninstallReaper(): void {
  if (!reaperInstalled || orphans.children.size > 0 || orphans.dirs.size > 0) return;
  reaperInstalled = false;
  process.off("exit", reapOrphans);
  for (const signal of TERMINATING_SIGNALS) process.off(signal, onTerminatingSignal);
}

/** Registers a temp dir to be removed if the test process ends before removeTempDir. */
export function trackTempDir(dir: string): void {
  orphans.dirs.add(dir);
  installReaper();
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  orphans.dirs.delete(dir);
  uninstallReaper();
}

export function launch(command: string, args: string[], stdoutPath: string, logPath: string): Launched {
  const out = openSync(stdoutPath, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["ignore", out, out] });
  } finally {
    closeSync(out);
  }
  orphans.children.add(child);
  installReaper();
  let done = false;
  let spawnError: Error | null = null;
  const exited = new Promise<void>((resolve) => {
    const finish = () => {
      done = true;
      orphans.children.delete(child);
      uninstallReaper();
      resolve();
    };
    child.once("exit", finish);
    child.once("error", (error) => {
      spawnError = error;
      finish();
    });
  });
  // The reaper, not the child handle, keeps it from outliving the test process.
  child.unref();
  return {
    name: command,
    child,
    exited,
    hasExited: () => done,
    async logTail() {
      if (spawnError) return `could not start ${command}: ${String(spawnError)} (is it on PATH?)`;
      const parts = await Promise.all(
        [stdoutPath, logPath].map(async (path) => {
          const text = await readFile(path, "utf8").catch(() => "");
          return `--- ${path} (last lines) ---\n${text.split("\n").slice(-25).join("\n")}`;
        }),
      );
      return parts.join("\n");
    },
  };
}

/** Polls `probe` until it resolves; fails early with the log tail if the process dies first. */
export async function waitUntilAnswering(p: Launched, probe: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    if (p.hasExited()) throw new Error(`${p.name} exited during start-up\n${await p.logTail()}`);
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
    }
    await delay(50);
  }
  throw new Error(`${p.name} did not answer within ${timeoutMs / 1000} s (last error: ${String(lastError)})\n${await p.logTail()}`);
}

/**
 * Ends exactly this process: `askToStop` (an RPC, say) or SIGTERM if that fails, then SIGKILL when it
 * has not exited within the grace period.
 */
export async function stopProcess(p: Launched, graceMs: number, askToStop?: () => Promise<unknown>): Promise<void> {
  if (p.hasExited() || p.child.pid === undefined) return;
  try {
    if (!askToStop) throw new Error("no polite way");
    await askToStop();
  } catch {
    p.child.kill("SIGTERM");
  }
  const graceful = await Promise.race([p.exited.then(() => true), delay(graceMs).then(() => false)]);
  if (!graceful && !p.hasExited()) {
    p.child.kill("SIGKILL");
    await p.exited;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
