// The few toncenter v2 calls a sweep needs: the network's global id, an account's balance and state, a wallet's
// seqno, and sendBoc. The X-API-Key header when a key is given; toncenter's rate limit (429) is waited out.

import { Address, Cell } from "@ton/core";

export type TonAccountState = "active" | "uninitialized" | "frozen";

export interface TonAccount {
  balance: bigint;
  /** toncenter v2 reports a never-used or destroyed (nonexist) account as uninitialized. */
  state: TonAccountState;
}

export class ToncenterError extends Error {
  override name = "ToncenterError";
}

export interface ToncenterV2 {
  /** ConfigParam 19: -239 mainnet, -3 testnet. */
  globalId(): Promise<number>;
  account(address: Address): Promise<TonAccount>;
  /** The seqno get-method of an active wallet. */
  seqno(address: Address): Promise<number>;
  /** Throws ToncenterError with the API's refusal. */
  sendBoc(boc: string): Promise<void>;
}

const TIMEOUT_MS = 20_000;
/** toncenter allows ~1 request/s without a key, ~10 with a free one; a 429 is retried after a growing pause. */
const RATE_LIMIT_RETRIES = 6;
const RATE_LIMIT_PAUSE_MS = 1_100;

export function createToncenterV2(base: string, apiKey: string | null, fetchFn: typeof fetch = fetch): ToncenterV2 {
  const host = (() => {
    const u = new URL(base);
    return `${u.protocol}//${u.host}`; // keys may sit in paths: never printed
  })();

  async function call(path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (apiKey) headers["x-api-key"] = apiKey;
    if (body !== undefined) headers["content-type"] = "application/json";
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetchFn(`${base}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        throw new ToncenterError(`${host}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (response.status === 429 && attempt < RATE_LIMIT_RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, RATE_LIMIT_PAUSE_MS * (attempt + 1)));
        continue;
      }
      const text = await response.text();
      let parsed: { ok?: unknown; result?: unknown; error?: unknown };
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ToncenterError(`${host}${path.split("?")[0]}: HTTP ${response.status}, not JSON`);
      }
      if (!response.ok || parsed?.ok !== true) {
        const error = typeof parsed?.error === "string" ? ` ${parsed.error.slice(0, 300)}` : "";
        throw new ToncenterError(`${host}${path.split("?")[0]}: HTTP ${response.status}${error}`);
      }
      return parsed.result;
    }
  }

  const raw = (address: Address) => encodeURIComponent(address.toRawString());

  return {
    async globalId() {
      const result = (await call("/v2/getConfigParam?config_id=19")) as { config?: { bytes?: unknown } } | undefined;
      const bytes = result?.config?.bytes;
      if (typeof bytes !== "string") throw new ToncenterError(`${host}: getConfigParam answered no config cell`);
      try {
        return Cell.fromBase64(bytes).beginParse().loadInt(32);
      } catch {
        throw new ToncenterError(`${host}: ConfigParam 19 is not a global id`);
      }
    },
    async account(address) {
      const result = (await call(`/v2/getAddressInformation?address=${raw(address)}`)) as { balance?: unknown; state?: unknown } | undefined;
      const balance = result?.balance;
      const state = result?.state;
      if ((typeof balance !== "string" && typeof balance !== "number") || !/^\d+$/.test(String(balance))) {
        throw new ToncenterError(`${host}: getAddressInformation of ${address.toRawString()} has no balance`);
      }
      if (state !== "active" && state !== "uninitialized" && state !== "frozen") {
        throw new ToncenterError(`${host}: getAddressInformation of ${address.toRawString()} has an unknown state`);
      }
      return { balance: BigInt(balance), state };
    },
    async seqno(address) {
      const result = (await call("/v2/runGetMethod", { address: address.toRawString(), method: "seqno", stack: [] })) as
        | { exit_code?: unknown; stack?: unknown }
        | undefined;
      const entry = Array.isArray(result?.stack) ? (result.stack[0] as unknown) : undefined;
      if (result?.exit_code !== 0 || !Array.isArray(entry) || entry[0] !== "num" || typeof entry[1] !== "string") {
        throw new ToncenterError(`${host}: seqno of ${address.toRawString()} could not be read (exit code ${String(result?.exit_code)})`);
      }
      const seqno = Number(BigInt(entry[1]));
      if (!Number.isSafeInteger(seqno) || seqno < 0) throw new ToncenterError(`${host}: seqno of ${address.toRawString()} is out of range`);
      return seqno;
    },
    async sendBoc(boc) {
      await call("/v2/sendBoc", { boc });
    },
  };
}
