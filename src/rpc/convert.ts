// Domain snapshots -> API messages. Amounts leave as doubles (parsed from the exact decimal
// string) and, exactly, as decimal strings in coin units.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { InvoiceSchema, type Invoice as InvoiceMessage, type InvoiceStatusType } from "../../gen/invoice/v1/invoice_pb";
import type { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { amountToDouble, formatAmount } from "../domain/amount";
import { coinFacts } from "../chains/registry";
import type { InvoiceSnapshot } from "../domain/events";
import { checkoutUrl } from "../config";

/** `checkoutBase`: the public origin of checkout pages, or null to leave checkoutUrl unset. */
export function invoiceMessage(s: InvoiceSnapshot, checkoutBase: string | null): InvoiceMessage {
  // An invoice exists only for a coin some module serves; anything else is a bug, not a default.
  const facts = coinFacts(s.coin);
  if (!facts) throw new Error(`invoice ${s.id} of coin ${s.coin}, which no chain module serves`);
  const { decimals } = facts;
  const required = BigInt(s.required);
  const actual = BigInt(s.actual);
  return create(InvoiceSchema, {
    id: s.id,
    cryptoAddress: s.address,
    coin: s.coin as number as CoinType,
    requiredAmount: amountToDouble(required, decimals),
    actualAmount: amountToDouble(actual, decimals),
    confirmationsRequired: s.confirmationsRequired,
    createdAt: timestampFromMs(s.createdAt),
    confirmedAt: s.confirmedAt === null ? undefined : timestampFromMs(s.confirmedAt),
    status: s.status as number as InvoiceStatusType,
    expiresAt: timestampFromMs(s.expiresAt),
    txId: s.txId ?? "",
    userId: s.userId,
    requiredAmountExact: formatAmount(required, decimals),
    actualAmountExact: formatAmount(actual, decimals),
    description: s.details?.description ?? undefined,
    orderId: s.details?.orderId ?? undefined,
    redirectUrl: s.details?.redirectUrl ?? undefined,
    metadata: { ...s.details?.metadata },
    checkoutUrl: checkoutBase === null ? undefined : checkoutUrl(checkoutBase, s.id),
  });
}
