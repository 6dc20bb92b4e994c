// Settings read from the environment, parsed once per use with safe defaults. Each chain module
// reads its own (src/chains/<family>/settings.ts) through `setting`; this file names no coin.

import type { Env } from "./env";

/** A string setting, trimmed; undefined when unset or blank. */
export function setting(env: Env, name: string): string | undefined {
  const value = env[name];
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** A secret setting (a password) exactly as given; undefined when unset or empty. */
export function secretSetting(env: Env, name: string): string | undefined {
  const value = env[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A positive number of seconds, or the fallback for a missing or nonsense value. */
export function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function monitoringMs(env: Env): number {
  return seconds(env.MONITORING_SECONDS, 24 * 60 * 60) * 1000;
}

/** Free plan: 50 subrequests per invocation (paid: 10,000 by default). */
const FREE_PLAN_SUBREQUESTS = 50;

/** Subrequests (fetches, D1 queries, Durable Object calls) one invocation may make: `SUBREQUEST_BUDGET`. */
export function subrequestBudget(env: Env): number {
  const n = Number(setting(env, "SUBREQUEST_BUDGET"));
  return Number.isSafeInteger(n) && n >= 10 ? n : FREE_PLAN_SUBREQUESTS;
}

/** `WEBHOOK_ALLOW_INSECURE_URLS=true` (local development and tests only): webhooks may call http:// and loopback/private hosts. */
export function allowInsecureWebhookUrls(env: Env): boolean {
  return setting(env, "WEBHOOK_ALLOW_INSECURE_URLS") === "true";
}

/** `CHECKOUT_ALLOW_INSECURE_REDIRECTS=true` (local development and tests only): an invoice's redirectUrl may be http://. */
export function allowInsecureRedirects(env: Env): boolean {
  return setting(env, "CHECKOUT_ALLOW_INSECURE_REDIRECTS") === "true";
}

/**
 * The public origin of checkout pages: `CHECKOUT_BASE_URL` (scheme, host and an optional path
 * prefix, no trailing slash), else `fallback` (the request's origin), else null (no checkout URL:
 * a webhook sent from the queue has no request to take the origin from).
 */
export function checkoutBase(env: Env, fallback: string | null): string | null {
  const base = setting(env, "CHECKOUT_BASE_URL");
  return base ? base.replace(/\/+$/, "") : fallback;
}

export function checkoutUrl(base: string, invoiceId: string): string {
  return `${base}/pay/${invoiceId}`;
}

/** Users per scan shard when SCAN_SHARD_USERS is unset: a shard's scan of one step stays well inside one invocation. */
const DEFAULT_USERS_PER_SHARD = 200;

/** Users per scan shard: `SCAN_SHARD_USERS` (the watcher runs ceil(watching users / this) shards). */
export function scanShardUsers(env: Env): number {
  const n = Number(setting(env, "SCAN_SHARD_USERS"));
  return Number.isSafeInteger(n) && n >= 1 ? n : DEFAULT_USERS_PER_SHARD;
}
