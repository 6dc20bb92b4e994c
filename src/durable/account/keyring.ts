// The account's watch-only keys: sealing secrets for D1 (AES-GCM, key from a secret) and opening
// key sets, each unsealed once per object lifetime.

import type { OpenKeySet } from "../../chains/adapter";
import type { KeySetRow } from "../../db/key-sets";
import { importSealKey, seal, unseal } from "../../db/sealed";
import type { Coin } from "../../domain/coins";

export class Keyring {
  private sealKey: Promise<CryptoKey> | null = null;
  private readonly open = new Map<number, OpenKeySet>();

  constructor(private readonly secret: string | undefined) {}

  async seal(coin: Coin, fingerprint: string, plaintext: string): Promise<string> {
    return seal(await this.key(), plaintext, sealContext(coin, fingerprint));
  }

  async opened(row: KeySetRow): Promise<OpenKeySet> {
    let keys = this.open.get(row.id);
    if (!keys) {
      const secret = row.sealedSecret === null ? null : await unseal(await this.key(), row.sealedSecret, sealContext(row.coin as Coin, row.fingerprint));
      keys = { id: row.id, publicKeys: JSON.parse(row.publicKeys) as Record<string, string>, secret };
      this.open.set(row.id, keys);
    }
    return keys;
  }

  /** A key set whose secret changed must be unsealed again. */
  forget(keySetId: number): void {
    this.open.delete(keySetId);
  }

  private key(): Promise<CryptoKey> {
    this.sealKey ??= importSealKey(this.secret);
    this.sealKey.catch(() => (this.sealKey = null));
    return this.sealKey;
  }
}

function sealContext(coin: Coin, fingerprint: string): string {
  return `keyset:${coin}:${fingerprint}`;
}
