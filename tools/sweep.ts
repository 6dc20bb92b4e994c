// Entry point of `npm run sweep`: moves the funds of many invoice addresses of one mnemonic to one destination.
// See docs/sweep.md; the work is in tools/sweep/.
import { runSweep } from "./sweep/cli";

process.exitCode = await runSweep(process.argv.slice(2));
