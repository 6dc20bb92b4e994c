// Compiles TestToken.sol and BatchPayout.sol into TestToken.json / BatchPayout.json (abi + bytecode) beside them.
// Run once, by hand, when a source changes, and commit the JSON; tests load the JSON and never compile:
//
//   node test/e2e/support/contracts/build.mjs
//
// It runs solc-js 0.8.37 (npm `solc`, wasm, no compiler download) through `npx -y solc@0.8.37 --standard-json`,
// so the compiler is not a dependency of the project. evmVersion paris: no PUSH0, the bytecode runs on any node.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SOLC_VERSION = "0.8.37";
const CONTRACTS = ["TestToken", "BatchPayout"];
const here = dirname(fileURLToPath(import.meta.url));

const input = {
  language: "Solidity",
  sources: Object.fromEntries(CONTRACTS.map((name) => [`${name}.sol`, { content: readFileSync(join(here, `${name}.sol`), "utf8") }])),
  settings: {
    evmVersion: "paris",
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};

const stdout = execFileSync("npx", ["-y", `solc@${SOLC_VERSION}`, "--standard-json"], {
  input: JSON.stringify(input),
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
// solcjs may print a line before the JSON; the output object starts at the first "{".
const output = JSON.parse(stdout.slice(stdout.indexOf("{")));

const errors = (output.errors ?? []).filter((e) => e.severity === "error");
for (const e of output.errors ?? []) console.error(e.formattedMessage ?? e.message);
if (errors.length > 0) process.exit(1);

for (const name of CONTRACTS) {
  const contract = output.contracts?.[`${name}.sol`]?.[name];
  if (!contract) throw new Error(`no output for ${name}`);
  const artifact = { contractName: name, compiler: `solc-js ${SOLC_VERSION}`, evmVersion: "paris", abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  writeFileSync(join(here, `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
  console.log(`${name}.json: ${contract.evm.bytecode.object.length / 2} bytes of init code`);
}
