// When a failed webhook delivery is tried again: a fixed backoff after each failed attempt, then
// the delivery fails for good. Pure; WEBHOOK_RETRY_SECONDS (a comma list of seconds) replaces it.

/** 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h: nine attempts over about 45 hours. */
export const DEFAULT_RETRY_SECONDS: readonly number[] = [10, 60, 300, 1800, 7200, 21600, 43200, 86400];

/** The schedule a setting asks for; unset or empty means the default. Throws on anything but positive whole seconds. */
export function retrySchedule(setting: string | undefined): readonly number[] {
  const text = setting?.trim() ?? "";
  if (text === "") return DEFAULT_RETRY_SECONDS;
  return text.split(",").map((part) => {
    const s = part.trim();
    if (!/^\d+$/.test(s) || Number(s) <= 0) throw new Error(`WEBHOOK_RETRY_SECONDS: "${s}" is not a positive number of seconds`);
    return Number(s);
  });
}

/** Seconds to wait after `attemptsMade` failed attempts (1 = the first), or null when none is left. */
export function retryDelaySeconds(schedule: readonly number[], attemptsMade: number): number | null {
  return schedule[attemptsMade - 1] ?? null;
}
