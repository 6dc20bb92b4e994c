// One signed sweep of an invoice wallet: an external message whose v4r2 transfer sends the whole balance to the
// destination with bounce off and destroys the account (mode 128 + 32); at seqno 0 it carries the StateInit,
// so the one transaction deploys the wallet and empties it. Signed offline: nothing here talks to the network.

import { Address, beginCell, external, internal, SendMode, storeMessage } from "@ton/core";
import type { KeyPair } from "@ton/crypto";
import { WalletContractV4 } from "@ton/ton";
import { deriveInvoiceWallet, WALLET_ID_BASE, walletInit, type TonNetwork } from "../../../chains/ton/wallet";

/** Send the whole balance, then destroy the emptied account: no storage debt piles up on a wallet left at 0. */
export const SWEEP_SEND_MODE = SendMode.CARRY_ALL_REMAINING_BALANCE + SendMode.DESTROY_ACCOUNT_IF_ZERO;

export interface SweepMessageInput {
  keyPair: KeyPair;
  index: number;
  seqno: number;
  to: Address;
  /** Unix seconds after which the wallet refuses the message. */
  validUntil: number;
  network: TonNetwork;
}

/** The external message as a base64 BOC, for `sendBoc`; throws if @ton/ton's wallet is not the invoice wallet. */
export function signSweep(input: SweepMessageInput): string {
  const { keyPair, index, seqno } = input;
  const wallet = WalletContractV4.create({ workchain: 0, publicKey: keyPair.publicKey, walletId: WALLET_ID_BASE + index });
  const invoice = deriveInvoiceWallet(keyPair.publicKey, index, input.network);
  // Two derivations of one address (ours, which the server hands out, and @ton/ton's, which signs): they must agree.
  if (!wallet.address.equals(invoice.address)) throw new Error(`index ${index}: @ton/ton's v4 wallet is ${wallet.address.toRawString()}, not the invoice wallet ${invoice.raw}`);
  const body = wallet.createTransfer({
    seqno,
    secretKey: keyPair.secretKey,
    sendMode: SWEEP_SEND_MODE,
    messages: [internal({ to: input.to, value: 0n, bounce: false })],
    timeout: input.validUntil,
  });
  const message = external({ to: wallet.address, init: seqno === 0 ? walletInit(keyPair.publicKey, index) : undefined, body });
  return beginCell().store(storeMessage(message)).endCell().toBoc().toString("base64");
}
