// The UTXO networks edgepay knows (Bitcoin and Litecoin): address prefixes, extended-key versions and the
// chain name each one's node reports. Constants only; every other file in this folder takes a UtxoNetwork.

export type UtxoCoin = "BTC" | "LTC";
export type BtcNetworkName = "mainnet" | "testnet" | "signet" | "regtest";
export type LtcNetworkName = "mainnet" | "testnet" | "regtest";
export type UtxoNetworkName = BtcNetworkName | LtcNetworkName;

/** The output script an account key pays to: BIP44, BIP49, BIP84 and BIP86 respectively. */
export type ScriptType = "p2pkh" | "p2sh-p2wpkh" | "p2wpkh" | "p2tr";

/** A BIP32 serialization version a merchant's wallet may export, and the script it stands for. */
export interface ExtendedKeyVersion {
  /** The base58 prefix it produces, as people call it (SLIP-132). */
  readonly name: string;
  readonly public: number;
  /** The matching private version: recognised only to refuse private keys with a precise reason. */
  readonly private: number;
  readonly script: ScriptType;
}

export interface UtxoNetwork {
  readonly coin: UtxoCoin;
  readonly name: UtxoNetworkName;
  /** `getblockchaininfo.chain` of a node on this network. */
  readonly coreChain: "main" | "test" | "signet" | "regtest";
  /** Segwit address prefix (BIP173/BIP350). */
  readonly bech32: string;
  readonly p2pkhVersion: number;
  /** P2SH versions this network's nodes decode; the first is the one addresses are written with. */
  readonly p2shVersions: readonly number[];
  /**
   * Bare extended public keys accepted for this network. The first is the plain version Core uses in
   * descriptors (xpub or tpub); bare, it means P2WPKH, as most wallets that export it mean.
   */
  readonly extendedKeys: readonly ExtendedKeyVersion[];
  /** SLIP-44 coin type of the BIP44/49/84/86 paths on this network (1 on every test network). */
  readonly coinType: number;
  /**
   * Hash of block 0 of every chain this network name covers: the network check of a backend that does not
   * name its chain (Esplora). Bitcoin's "testnet" is testnet3 or testnet4, which share every prefix.
   */
  readonly genesisHashes: readonly string[];
}

// SLIP-132 version bytes (github.com/satoshilabs/slips slip-0132.md).
const XPUB: ExtendedKeyVersion = { name: "xpub", public: 0x0488b21e, private: 0x0488ade4, script: "p2wpkh" };
const YPUB: ExtendedKeyVersion = { name: "ypub", public: 0x049d7cb2, private: 0x049d7878, script: "p2sh-p2wpkh" };
const ZPUB: ExtendedKeyVersion = { name: "zpub", public: 0x04b24746, private: 0x04b2430c, script: "p2wpkh" };
const TPUB: ExtendedKeyVersion = { name: "tpub", public: 0x043587cf, private: 0x04358394, script: "p2wpkh" };
const UPUB: ExtendedKeyVersion = { name: "upub", public: 0x044a5262, private: 0x044a4e28, script: "p2sh-p2wpkh" };
const VPUB: ExtendedKeyVersion = { name: "vpub", public: 0x045f1cf6, private: 0x045f18bc, script: "p2wpkh" };
// Litecoin's own SLIP-132 entries. There is none for native segwit (m/84'/2'), so Litecoin wallets export
// xpub or zpub for it; Electrum-LTC also writes ypub/zpub with Bitcoin's bytes, hence those are accepted too.
const LTUB: ExtendedKeyVersion = { name: "Ltub", public: 0x019da462, private: 0x019d9cfe, script: "p2pkh" };
const MTUB: ExtendedKeyVersion = { name: "Mtub", public: 0x01b26ef6, private: 0x01b26792, script: "p2sh-p2wpkh" };
const TTUB: ExtendedKeyVersion = { name: "ttub", public: 0x0436f6e1, private: 0x0436ef7d, script: "p2pkh" };

const BITCOIN_MAIN_KEYS = [XPUB, YPUB, ZPUB] as const;
const BITCOIN_TEST_KEYS = [TPUB, UPUB, VPUB] as const;

// Bitcoin Core chainparams.cpp; Litecoin Core 0.21 chainparams.cpp, checked against a running litecoind
// (shared/vectors/utxo.json `prefixes`; regtest's genesis by `getblockhash 0`). Testnet, signet and regtest
// share every base58 version.
const GENESIS = {
  btcMain: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
  btcTestnet3: "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
  btcTestnet4: "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
  btcSignet: "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
  btcRegtest: "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
  ltcMain: "12a765e31ffd4059bada1e25190f6e98c99d9714d334efa41a195a7e7e04bfe2",
  ltcTestnet4: "4966625a4b2851d9fdee139e56211a0d88575f59ed816ff5e6a63deb4e3e29a0",
  ltcRegtest: "530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9",
} as const;

const NETWORKS = {
  BTC: {
    mainnet: { coreChain: "main", bech32: "bc", p2pkhVersion: 0, p2shVersions: [5], extendedKeys: BITCOIN_MAIN_KEYS, coinType: 0, genesisHashes: [GENESIS.btcMain] },
    testnet: { coreChain: "test", bech32: "tb", p2pkhVersion: 111, p2shVersions: [196], extendedKeys: BITCOIN_TEST_KEYS, coinType: 1, genesisHashes: [GENESIS.btcTestnet3, GENESIS.btcTestnet4] },
    signet: { coreChain: "signet", bech32: "tb", p2pkhVersion: 111, p2shVersions: [196], extendedKeys: BITCOIN_TEST_KEYS, coinType: 1, genesisHashes: [GENESIS.btcSignet] },
    regtest: { coreChain: "regtest", bech32: "bcrt", p2pkhVersion: 111, p2shVersions: [196], extendedKeys: BITCOIN_TEST_KEYS, coinType: 1, genesisHashes: [GENESIS.btcRegtest] },
  },
  LTC: {
    // Litecoin moved P2SH from Bitcoin's 5 (3…) and 196 (2…) to 50 (M…) and 58 (Q…); nodes still decode the old ones.
    mainnet: { coreChain: "main", bech32: "ltc", p2pkhVersion: 48, p2shVersions: [50, 5], extendedKeys: [XPUB, LTUB, MTUB, YPUB, ZPUB], coinType: 2, genesisHashes: [GENESIS.ltcMain] },
    testnet: { coreChain: "test", bech32: "tltc", p2pkhVersion: 111, p2shVersions: [58, 196], extendedKeys: [TPUB, TTUB, UPUB, VPUB], coinType: 1, genesisHashes: [GENESIS.ltcTestnet4] },
    regtest: { coreChain: "regtest", bech32: "rltc", p2pkhVersion: 111, p2shVersions: [58, 196], extendedKeys: [TPUB, TTUB, UPUB, VPUB], coinType: 1, genesisHashes: [GENESIS.ltcRegtest] },
  },
} as const satisfies Record<UtxoCoin, Partial<Record<UtxoNetworkName, Omit<UtxoNetwork, "coin" | "name">>>>;

type NetworkOf<C extends UtxoCoin> = C extends "BTC" ? BtcNetworkName : LtcNetworkName;

/** The parameters of `coin` on `network`; null for a pair that does not exist (Litecoin has no signet). */
export function utxoNetwork<C extends UtxoCoin>(coin: C, network: NetworkOf<C>): UtxoNetwork;
export function utxoNetwork(coin: UtxoCoin, network: string): UtxoNetwork | null;
export function utxoNetwork(coin: UtxoCoin, network: string): UtxoNetwork | null {
  const byName: Partial<Record<string, Omit<UtxoNetwork, "coin" | "name">>> = NETWORKS[coin];
  const params = Object.hasOwn(byName, network) ? byName[network] : undefined;
  return params ? { coin, name: network as UtxoNetworkName, ...params } : null;
}

/** Every network of every coin, for tests and for listing what a setting may say. */
export function allUtxoNetworks(): UtxoNetwork[] {
  return (Object.keys(NETWORKS) as UtxoCoin[]).flatMap((coin) =>
    Object.keys(NETWORKS[coin]).map((name) => utxoNetwork(coin, name)!),
  );
}

/** The plain extended-key version (xpub or tpub): what descriptors carry and what Core understands. */
export function plainKeyVersion(network: UtxoNetwork): ExtendedKeyVersion {
  return network.extendedKeys[0]!;
}
