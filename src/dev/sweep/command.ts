// How every chain's sweep command starts and ends: --help, then options and the run, and each kind of error
// turned into its exit code (a refusal before anything was sent is 2, a failure after that may have been is 1).

import type { CliIo } from "./cli";
import { EXIT_FAILED, EXIT_OK, EXIT_REFUSED } from "./exit-codes";
import { UsageError } from "./options";
import { ChainMismatchError } from "./survey";
import { SecretError } from "./wallet";

export interface SweepCommand<O> {
  /** "sweep", "sweep ton": the prefix of every error line. */
  name: string;
  usage: string;
  parse(argv: readonly string[]): O;
  run(opts: O, io: CliIo): Promise<number>;
}

export async function runCommand<O>(command: SweepCommand<O>, argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(command.usage);
    return EXIT_OK;
  }
  try {
    return await command.run(command.parse(argv), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${command.name}: ${error.message}\n\n${command.usage}`);
      return EXIT_REFUSED;
    }
    if (error instanceof SecretError || error instanceof ChainMismatchError) {
      io.err(`${command.name}: ${error.message}`);
      return EXIT_REFUSED;
    }
    // A node that stops answering, say. Some transactions may have gone out: not a "nothing was sent" exit.
    const e = error as { shortMessage?: string; details?: string; message?: string };
    io.err(`${command.name}: ${e.shortMessage ?? e.message ?? String(error)}${e.details ? ` (${e.details})` : ""}`);
    return EXIT_FAILED;
  }
}
