// BNB Smart Chain payments end to end against anvil started with BSC mainnet's chain id 56 (BNB_NETWORK=mainnet):
// the full payment, and the shipped BEP-20 contracts, which do not exist on anvil (scenarios in support/evm-scenarios.ts).
import { evmPaymentScenarios } from "./support/evm-scenarios";

evmPaymentScenarios({ chain: "BNB", chainId: 56, network: "mainnet", all: false });
