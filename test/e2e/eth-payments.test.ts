// Ethereum payments end to end against anvil (chain id 31337), ETH and a 6-decimal test token as USDT_ERC20
// (scenarios in support/evm-scenarios.ts).
import { evmPaymentScenarios } from "./support/evm-scenarios";

evmPaymentScenarios({ chain: "ETH", chainId: 31337, network: "31337", all: true });
