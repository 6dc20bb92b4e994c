// The expected way for a node to fail: unreachable, erroring, answering garbage or out of time. Sources
// throw it (or a subclass) after their own retries; the watcher logs it as one line, without a stack.

export class NodeError extends Error {
  override name = "NodeError";
}
