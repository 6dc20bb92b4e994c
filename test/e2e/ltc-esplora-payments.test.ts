// Litecoin payments end to end, the Worker reading an Esplora explorer: the Esplora-shaped test server over a real
// litecoind (scenarios in support/ltc-scenarios.ts).
import { ltcPaymentScenarios } from "./support/ltc-scenarios";

ltcPaymentScenarios("esplora");
