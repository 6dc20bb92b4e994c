// How long the chain watcher waits after a failed tick before it looks again.
import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../src/durable/retry-delay";

describe("retryDelayMs", () => {
  it("grows with the failures in a row, but never past three poll intervals: detection resumes soon after the node is back", () => {
    expect([1, 2, 3, 4, 10, 1000].map((f) => retryDelayMs(5_000, f))).toEqual([5_000, 10_000, 15_000, 15_000, 15_000, 15_000]);
  });

  it("never waits more than a minute, whatever the poll interval", () => {
    expect([1, 5].map((f) => retryDelayMs(3_600_000, f))).toEqual([60_000, 60_000]);
  });
});
