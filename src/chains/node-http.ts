// HTTP helpers shared by the node clients.

/** A fetch failure as one line: a timeout (the AbortSignal fired) or the network error and its cause. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `timed out after ${timeoutMs} ms`;
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `network error: ${message}${cause}`;
}
