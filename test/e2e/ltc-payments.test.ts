// Litecoin payments end to end, the Worker reading litecoind's JSON-RPC (scenarios in support/ltc-scenarios.ts).
import { ltcPaymentScenarios } from "./support/ltc-scenarios";

ltcPaymentScenarios("core");
