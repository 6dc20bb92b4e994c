// The webhook retry schedule: the default backoff, the WEBHOOK_RETRY_SECONDS override, and when it runs out.
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_SECONDS, retryDelaySeconds, retrySchedule } from "../../src/webhooks/schedule";

describe("retrySchedule", () => {
  it("waits 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h by default", () => {
    expect(retrySchedule(undefined)).toEqual([10, 60, 300, 1800, 7200, 21600, 43200, 86400]);
    expect(retrySchedule("  ")).toBe(DEFAULT_RETRY_SECONDS);
  });

  it("takes a comma list of seconds instead", () => {
    expect(retrySchedule("1, 2,3")).toEqual([1, 2, 3]);
  });

  it("refuses anything but positive whole seconds", () => {
    for (const bad of ["0", "1,,2", "-1", "1.5", "ten"]) expect(() => retrySchedule(bad), bad).toThrow(/WEBHOOK_RETRY_SECONDS/);
  });
});

describe("retryDelaySeconds", () => {
  it("gives the wait after each failed attempt, then none: the delivery fails after 1 + the schedule's length attempts", () => {
    const schedule = retrySchedule(undefined);
    expect([1, 2, 8].map((n) => retryDelaySeconds(schedule, n))).toEqual([10, 60, 86400]);
    expect(retryDelaySeconds(schedule, 9)).toBeNull();
    expect(retryDelaySeconds([5], 1)).toBe(5);
    expect(retryDelaySeconds([5], 2)).toBeNull();
  });
});
