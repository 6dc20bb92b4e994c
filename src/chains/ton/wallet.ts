// Invoice addresses of a merchant's TON key: one standard wallet v4r2 per invoice, told apart by walletId,
// and address text -> the account hash payments are matched on (TON addresses have many spellings).
// Why v4r2, not v5r1: its address is the same on every network and walletId is a free uint32 (v5r1: uint31, per network);
// it is the most widely deployed wallet code, and its seqno-0 sweep (StateInit + transfer) is the simplest and cheapest.

import { Address, beginCell, Cell, contractAddress, type StateInit } from "@ton/core";
import { bytesToHex } from "@noble/hashes/utils.js";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { PUBLIC_KEY_BYTES } from "./keys";

export type TonNetwork = "mainnet" | "testnet";

export interface InvoiceWallet {
  address: Address;
  /** Non-bounceable, url-safe user-friendly form ("UQ…", testnet "0Q…"): what a payer is shown, so a payment to
   * the undeployed wallet is credited instead of bounced (wallet apps take the bounce bit from the flag, TEP-2). */
  friendly: string;
  /** "0:" and 64 lowercase hex digits: no flags, no checksum. */
  raw: string;
  /** The account hash as 64 lowercase hex digits: what the watcher compares addresses with (workchain 0 implied). */
  matchKey: string;
}

/**
 * Wallet v4r2 code, as every wallet app and @ton/ton 16.3.0 (`WalletContractV4`) deploy it; its cell hash is
 * V4R2_CODE_HASH. A fact copied from there, not code: the address of every invoice depends on these bytes.
 */
const V4R2_CODE_BOC = [
  "te6ccgECFAEAAtQAART/APSkE/S88sgLAQIBIAIDAgFIBAUE+PKDCNcYINMf0x/THwL4I7vyZO1E0NMf0x/T//QE0VFDuvKhUVG6",
  "8qIF+QFUEGT5EPKj+AAkpMjLH1JAyx9SMMv/UhD0AMntVPgPAdMHIcAAn2xRkyDXSpbTB9QC+wDoMOAhwAHjACHAAuMAAcADkTDj",
  "DQOkyMsfEssfy/8QERITAubQAdDTAyFxsJJfBOAi10nBIJJfBOAC0x8hghBwbHVnvSKCEGRzdHK9sJJfBeAD+kAwIPpEAcjKB8v/",
  "ydDtRNCBAUDXIfQEMFyBAQj0Cm+hMbOSXwfgBdM/yCWCEHBsdWe6kjgw4w0DghBkc3RyupJfBuMNBgcCASAICQB4AfoA9AQw+Cdv",
  "IjBQCqEhvvLgUIIQcGx1Z4MesXCAGFAEywUmzxZY+gIZ9ADLaRfLH1Jgyz8gyYBA+wAGAIpQBIEBCPRZMO1E0IEBQNcgyAHPFvQA",
  "ye1UAXKwjiOCEGRzdHKDHrFwgBhQBcsFUAPPFiP6AhPLassfyz/JgED7AJJfA+ICASAKCwBZvSQrb2omhAgKBrkPoCGEcNQICEek",
  "k30pkQzmkD6f+YN4EoAbeBAUiYcVnzGEAgFYDA0AEbjJftRNDXCx+AA9sp37UTQgQFA1yH0BDACyMoHy//J0AGBAQj0Cm+hMYAIB",
  "IA4PABmtznaiaEAga5Drhf/AABmvHfaiaEAQa5DrhY/AAG7SB/oA1NQi+QAFyMoHFcv/ydB3dIAYyMsFywIizxZQBfoCFMtrEszM",
  "yXP7AMhAFIEBCPRR8qcCAHCBAQjXGPoA0z/IVCBHgQEI9FHyp4IQbm90ZXB0gBjIywXLAlAGzxZQBPoCFMtqEssfyz/Jc/sAAgBs",
  "gQEI1xj6ANM/MFIkgQEI9Fnyp4IQZHN0cnB0gBjIywXLAlAFzxZQA/oCE8tqyx8Syz/Jc/sAAAr0AMntVA==",
].join("");
export const V4R2_CODE: Cell = Cell.fromBase64(V4R2_CODE_BOC);
export const V4R2_CODE_HASH = "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0";

/** walletId of invoice 0. Wallet apps use 698983191 (+ workchain); 0x40000000 up is far from anything they create. */
export const WALLET_ID_BASE = 0x40000000;
/** walletId is a uint32: the last index whose walletId still fits. */
export const MAX_WALLET_INDEX = 0xffffffff - WALLET_ID_BASE;
const WORKCHAIN = 0;

function assertWalletIndex(caller: string, index: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_WALLET_INDEX) {
    throw new RangeError(`${caller}: index must be an integer in 0..${MAX_WALLET_INDEX}, got ${index}`);
  }
}

/** The StateInit of invoice `index`'s wallet: the sweep sends it with its first (seqno 0) transfer, which deploys it. */
export function walletInit(publicKey: Uint8Array, index: number): StateInit {
  assertWalletIndex("walletInit", index);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new TypeError(`walletInit: publicKey must be ${PUBLIC_KEY_BYTES} bytes`);
  }
  const data = beginCell()
    .storeUint(0, 32) // seqno
    .storeUint(WALLET_ID_BASE + index, 32)
    .storeUint(bytesToNumberBE(publicKey), 256)
    .storeBit(0) // no plugins
    .endCell();
  return { code: V4R2_CODE, data };
}

/** The wallet that receives invoice `index`'s payments, on workchain 0. Throws RangeError for an index out of range. */
export function deriveInvoiceWallet(publicKey: Uint8Array, index: number, network: TonNetwork): InvoiceWallet {
  assertWalletIndex("deriveInvoiceWallet", index);
  const address = contractAddress(WORKCHAIN, walletInit(publicKey, index));
  const matchKey = bytesToHex(address.hash);
  return {
    address,
    friendly: address.toString({ urlSafe: true, bounceable: false, testOnly: network === "testnet" }),
    raw: `${WORKCHAIN}:${matchKey}`,
    matchKey,
  };
}

const RAW_ADDRESS = /^(-?[0-9]{1,3}):([0-9a-fA-F]{64})$/;
// 36 bytes (tag, workchain, hash, CRC16) in base64, either alphabet.
const FRIENDLY_ADDRESS = /^[A-Za-z0-9+/_-]{48}$/;

/**
 * The account of an address text in any form (raw, or user-friendly bounceable or not, test-only or not,
 * url-safe or not), or null. The flags are ignored: APIs pick them freely, so addresses are compared by
 * matchKey and workchain, never as strings. A friendly form with a bad CRC16 is null.
 */
export function parseTonAddress(text: string): { matchKey: string; workchain: number } | null {
  if (typeof text !== "string") return null;
  const raw = RAW_ADDRESS.exec(text);
  if (raw !== null) {
    // @ton/core's raw parser is lenient (unanchored hex, Buffer's truncating decoder); the regex above is not.
    const workchain = Number(raw[1]);
    return workchain >= -128 && workchain <= 127 ? { matchKey: raw[2]!.toLowerCase(), workchain } : null;
  }
  if (!FRIENDLY_ADDRESS.test(text)) return null;
  try {
    const address = Address.parseFriendly(text).address;
    // The workchain byte is an int8; @ton/core reads it unsigned except for 0xff.
    const workchain = address.workChain > 127 ? address.workChain - 256 : address.workChain;
    return { matchKey: bytesToHex(address.hash), workchain };
  } catch {
    return null; // bad CRC16 or an unknown tag
  }
}
