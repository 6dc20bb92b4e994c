// The hosted checkout page (Hono JSX): one invoice's amount due, address, QR and status. The same
// <main> fragment is the whole page without JavaScript and, over server-sent events, its live update.

import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { fnv1a } from "../domain/hash";
import { CLIENT_SCRIPT, STYLES } from "./assets";
import { qrSvg } from "./qr";
import type { CheckoutState, CheckoutView } from "./view";

const HEADLINE: Record<CheckoutState, string> = {
  waiting: "Waiting for payment",
  partial: "Partially paid",
  seen: "Payment seen",
  paid: "Paid",
  expired: "Expired",
};

/** Without JavaScript an open invoice's page reloads itself this often (seconds). */
const NO_SCRIPT_REFRESH_SECONDS = 20;

export function checkoutPage(view: CheckoutView, now: number, nonce: string): string {
  const open = view.state !== "paid";
  const title = view.merchant ? `Pay ${view.merchant}` : "Payment";
  return (
    "<!doctype html>" +
    (
      <html lang="en" data-live="off">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex, nofollow" />
          <meta name="referrer" content="no-referrer" />
          <title>{title}</title>
          {open ? (
            <noscript>
              <meta http-equiv="refresh" content={String(NO_SCRIPT_REFRESH_SECONDS)} />
            </noscript>
          ) : null}
          <style nonce={nonce}>{raw(STYLES)}</style>
        </head>
        <body>
          <main id="checkout">{raw(checkoutFragment(view, now))}</main>
          <script nonce={nonce}>{raw(CLIENT_SCRIPT)}</script>
        </body>
      </html>
    ).toString()
  );
}

/** The contents of <main>: the page's state at `now`, and what the live stream sends. */
export function checkoutFragment(view: CheckoutView, now: number): string {
  return (
    <div class="view" data-state={view.state} data-now={String(now)} data-version={versionOf(view)}>
      <header>
        {view.merchant ? (
          <p class="merchant" data-testid="merchant">
            {view.merchant}
          </p>
        ) : null}
        <h1>{heading(view)}</h1>
      </header>
      <section class={`status ${view.state}`} data-testid="status" data-state={view.state} aria-live="polite">
        <strong>{HEADLINE[view.state]}</strong>
        <p>{statusText(view)}</p>
      </section>
      {body(view, now)}
      <footer>
        <p>
          Invoice <code>{view.invoiceId}</code>
        </p>
        {view.state === "paid" ? null : (
          <p class="refresh">
            <a href="">Refresh</a>
          </p>
        )}
      </footer>
    </div>
  ).toString() as string;
}

function body(view: CheckoutView, now: number): Child {
  switch (view.state) {
    case "waiting":
    case "partial":
      return (
        <>
          <p class="label">Amount due</p>
          <p class="amount" data-testid="amount-due">
            {view.due} {view.ticker}
          </p>
          <a class="qr" href={view.paymentUri} title="Open in your wallet">
            {raw(qrSvg(view.paymentUri, `QR code: pay ${view.due} ${view.ticker}`))}
          </a>
          <p class="label">To this address</p>
          <p class="address" data-testid="address">
            {view.address}
          </p>
          <p class="actions">
            <button type="button" data-testid="copy" data-copy={view.address} hidden>
              Copy address
            </button>
            <a class="wallet" href={view.paymentUri}>
              Open in wallet
            </a>
          </p>
          <p class="expires">
            Expires in{" "}
            <time data-testid="countdown" data-expires={String(view.expiresAt)} datetime={new Date(view.expiresAt).toISOString()}>
              {countdown(view.expiresAt - now)}
            </time>{" "}
            <span class="at">({utc(view.expiresAt)})</span>
          </p>
        </>
      );
    case "seen":
      return (
        <>
          <p class="label">Confirmations</p>
          <p class="amount" data-testid="confirmations">
            {view.confirmations ?? 0} / {view.confirmationsRequired}
          </p>
          <p class="note">You can close this page: the payment is recorded and will be confirmed by the network.</p>
        </>
      );
    case "paid":
      return view.redirectUrl ? (
        <p class="actions">
          <a class="button" data-testid="redirect" href={view.redirectUrl} rel="noreferrer">
            Return to {view.merchant ?? "the merchant"}
          </a>
        </p>
      ) : null;
    case "expired":
      return (
        <p class="note">
          If you sent a payment anyway, it is still recorded for this invoice: contact {view.merchant ?? "the merchant"} with the invoice id
          below. Do not send anything more to this address.
        </p>
      );
  }
}

function heading(view: CheckoutView): string {
  switch (view.state) {
    case "paid":
      return "Thank you";
    case "seen":
      return "Payment received";
    case "expired":
      return "Invoice expired";
    default:
      return `Pay ${view.ticker}`;
  }
}

function statusText(view: CheckoutView): string {
  const amount = (a: string) => `${a} ${view.ticker}`;
  switch (view.state) {
    case "waiting":
      return `Send ${amount(view.due)} to the address below.`;
    case "partial":
      return `${amount(view.paid)} received; ${amount(view.due)} still due.`;
    case "seen":
      return `${amount(view.paid)} received, waiting for ${view.confirmationsRequired} confirmation${view.confirmationsRequired === 1 ? "" : "s"}.`;
    case "paid":
      return `${amount(view.paid)} received and confirmed${view.confirmedAt === null ? "" : ` at ${utc(view.confirmedAt)}`}.`;
    case "expired": {
      const before = view.paid === "0" ? "" : ` ${amount(view.paid)} of ${amount(view.required)} was paid in time.`;
      const late = view.paidLate === null ? "" : ` A late payment of ${amount(view.paidLate)} was recorded.`;
      return `This invoice expired at ${utc(view.expiresAt)}.${before}${late}`;
    }
  }
}

/** Changes with anything the payer sees: the live script leaves an unchanged view in place (no flicker, no detached nodes). */
function versionOf(view: CheckoutView): string {
  return fnv1a(JSON.stringify(view)).toString(16);
}

/** m:ss, or h:mm:ss past an hour, or d h past a day; the client script keeps it running. */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (days > 0) return `${days}d ${h}h`;
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The one page for an unknown or malformed id: nothing tells them apart. */
export function notFoundPage(): string {
  return (
    "<!doctype html>" +
    (
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex, nofollow" />
          <title>Not found</title>
        </head>
        <body>
          <h1>Not found</h1>
          <p>There is no invoice at this address.</p>
        </body>
      </html>
    ).toString()
  );
}
