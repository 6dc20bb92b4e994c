// One merchant on a running service, followed through its own stream from the start of the event log:
// what every payment scenario needs (make an invoice, read its statuses, let the watcher poll, resume
// the stream after a restart).
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CoinType } from "../../../gen/crypto/v1/crypto_pb";
import type { InvoiceStatusType } from "../../../gen/invoice/v1/invoice_pb";
import type { UpdateCryptoKeysRequestSchema } from "../../../gen/user/v1/user_pb";
import { watchStream, type Service } from "./service";

type Keys = Omit<MessageInitShape<typeof UpdateCryptoKeysRequestSchema>, "userId" | "$typeName">;

export class MerchantSession {
  stream: ReturnType<typeof watchStream>;

  private constructor(
    readonly service: Service,
    readonly userId: string,
    private readonly coin: CoinType,
    private readonly pollMs: number,
  ) {
    // From the start of the log: a live-only stream could miss the first event if it registers late.
    this.stream = watchStream(service, { userId, afterEventId: 0n });
  }

  /** Registers a merchant with `keys` and starts following its stream. */
  static async open(service: Service, coin: CoinType, keys: Keys, pollMs: number): Promise<MerchantSession> {
    const { userId } = await service.users.registerUser({});
    await service.users.updateCryptoKeys({ userId, ...keys });
    return new MerchantSession(service, userId, coin, pollMs);
  }

  /** A new invoice (in the session's coin unless told: a token uses its chain's keys), once its PENDING event arrived. */
  async invoice(amount: number, confirmations: number, timeout = 600n, coin = this.coin) {
    const created = await this.service.invoices.createInvoice({ userId: this.userId, coin, amount, timeout, confirmations });
    await this.stream.until(() => this.stream.statuses(created.paymentId).length > 0, 10_000, "the PENDING event");
    return created;
  }

  /** The invoice as its latest event showed it. */
  lastOf(id: string) {
    return this.stream.messages.filter((m) => m.invoice?.id === id).at(-1)!.invoice!;
  }

  reached(id: string, status: InvoiceStatusType) {
    return () => this.stream.statuses(id).includes(status);
  }

  /** Lets the watcher take a few polls, for asserting that nothing happens. */
  quiet(polls = 3): Promise<void> {
    return new Promise((r) => setTimeout(r, polls * this.pollMs + 500));
  }

  /** After the service restarted: the old stream ended; follow again from `afterEventId`. */
  async resume(afterEventId: bigint): Promise<void> {
    await this.stream.done;
    this.stream = watchStream(this.service, { userId: this.userId, afterEventId });
  }

  close(): Promise<void> {
    return this.stream.close();
  }
}
