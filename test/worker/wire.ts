// The API's wire protocols spoken by hand, for what a generated client never sends: bytes that do
// not decode, unknown JSON fields and enum names, oversized, chunked and gzip-compressed bodies.
import { Code } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { exports } from "cloudflare:workers";
import { API_TOKEN } from "./support";

/** How a request travels: Connect (unary or streaming, by the method) or gRPC-Web, as JSON or binary. */
export type Wire = "connect-json" | "connect-binary" | "grpc-web-json" | "grpc-web";
export const WIRES: Wire[] = ["connect-json", "connect-binary", "grpc-web-json", "grpc-web"];
export const BINARY_WIRES: Wire[] = ["connect-binary", "grpc-web"];
export const JSON_WIRES: Wire[] = ["connect-json", "grpc-web-json"];

export interface WireOptions {
  /** The request body as sent; by default the payload, enveloped where the protocol wants it. */
  body?: BodyInit;
  /** Compress the payload with gzip and say so in the protocol's encoding header. */
  gzip?: boolean;
  /** Ask for gzip-compressed response messages. */
  acceptGzip?: boolean;
  headers?: Record<string, string>;
  /** How long to read a stream before reporting it as still open. */
  waitMs?: number;
}

export interface WireResult {
  status: number;
  headers: Headers;
  /** Milliseconds until the response headers arrived. */
  headersAfterMs: number;
  /** Response messages, decompressed. */
  messages: Uint8Array[];
  /** Whether the response messages arrived gzip-compressed. */
  compressed: boolean;
  /** How the call ended: ok, an error, or "open" when a stream was still running after waitMs. */
  end: "ok" | "open" | { code: Code; message: string };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export const json = (value: unknown): Uint8Array => enc.encode(typeof value === "string" ? value : JSON.stringify(value));

const isStream = (method: DescMethod) => method.methodKind === "server_streaming";
const isJson = (wire: Wire) => wire.endsWith("json");

function contentType(wire: Wire, method: DescMethod): string {
  if (wire.startsWith("grpc-web")) return isJson(wire) ? "application/grpc-web+json" : "application/grpc-web+proto";
  const format = isJson(wire) ? "json" : "proto";
  return isStream(method) ? `application/connect+${format}` : `application/${format}`;
}

/** The header that names the request's compression, and the one that asks for compressed responses. */
function encodingHeaders(wire: Wire, method: DescMethod): [string, string] {
  if (wire.startsWith("grpc-web")) return ["grpc-encoding", "grpc-accept-encoding"];
  return isStream(method) ? ["connect-content-encoding", "connect-accept-encoding"] : ["content-encoding", "accept-encoding"];
}

/** Connect's unary calls send the bare message; its streams and every gRPC-Web call send envelopes. */
export const enveloped = (wire: Wire, method: DescMethod) => wire.startsWith("grpc-web") || isStream(method);

export function envelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out[0] = flags;
  out.set(data, 5);
  return out;
}

export async function gzipped(bytes: Uint8Array): Promise<Uint8Array> {
  return collect(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")));
}

export async function gunzipped(bytes: Uint8Array): Promise<Uint8Array> {
  return collect(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")));
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The request body for one message, framed and compressed as the protocol wants it. */
export async function requestBody(wire: Wire, method: DescMethod, payload: Uint8Array, gzip = false): Promise<Uint8Array> {
  const data = gzip ? await gzipped(payload) : payload;
  return enveloped(wire, method) ? envelope(gzip ? 1 : 0, data) : data;
}

/** Sends one call straight to the Worker's fetch handler and reads how it ended. */
export async function call(wire: Wire, method: DescMethod, payload: Uint8Array, opts: WireOptions = {}): Promise<WireResult> {
  const [encoding, acceptEncoding] = encodingHeaders(wire, method);
  const headers: Record<string, string> = { "content-type": contentType(wire, method), authorization: `Bearer ${API_TOKEN}` };
  if (opts.gzip) headers[encoding] = "gzip";
  if (opts.acceptGzip) headers[acceptEncoding] = "gzip";
  const body = opts.body ?? (await requestBody(wire, method, payload, opts.gzip));
  const abort = new AbortController();
  const started = Date.now();
  const fetcher = (exports as unknown as { default: { fetch: typeof fetch } }).default;
  const init: RequestInit & { duplex?: "half" } = {
    method: "POST",
    headers: { ...headers, ...opts.headers },
    body,
    signal: abort.signal,
    duplex: "half",
  };
  const waitMs = opts.waitMs ?? 5_000;
  const timer = setTimeout(() => abort.abort(), waitMs);
  let res: Response;
  try {
    res = await fetcher.fetch(`http://svc/${method.parent.typeName}/${method.name}`, init);
  } catch (e) {
    clearTimeout(timer);
    if (abort.signal.aborted) throw new Error(`no response headers within ${waitMs} ms`);
    throw e;
  }
  const headersAfterMs = Date.now() - started;
  try {
    const raw = await readBody(res, abort.signal);
    return { status: res.status, headers: res.headers, headersAfterMs, ...(await decode(wire, method, res, raw.bytes, raw.open)) };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

async function readBody(res: Response, signal: AbortSignal): Promise<{ bytes: Uint8Array; open: boolean }> {
  const reader = res.body?.getReader();
  if (!reader) return { bytes: new Uint8Array(), open: false };
  const chunks: Uint8Array[] = [];
  const aborted = new Promise<"aborted">((resolve) => signal.addEventListener("abort", () => resolve("aborted"), { once: true }));
  for (;;) {
    const next = await Promise.race([reader.read(), aborted]);
    if (next === "aborted") {
      void reader.cancel().catch(() => undefined);
      return { bytes: concat(chunks), open: true };
    }
    if (next.done) return { bytes: concat(chunks), open: false };
    chunks.push(next.value);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

async function decode(wire: Wire, method: DescMethod, res: Response, bytes: Uint8Array, open: boolean): Promise<Omit<WireResult, "status" | "headers" | "headersAfterMs">> {
  if (!enveloped(wire, method)) {
    if (res.status === 200) return { messages: [bytes], compressed: false, end: "ok" };
    const err = JSON.parse(dec.decode(bytes)) as { code: string; message?: string };
    return { messages: [], compressed: false, end: { code: codeFromString(err.code) ?? Code.Unknown, message: err.message ?? "" } };
  }
  const messages: Uint8Array[] = [];
  let compressed = false;
  let end: WireResult["end"] = open ? "open" : { code: Code.Unknown, message: "the stream ended without its end message" };
  const trailersOnly = res.headers.get("grpc-status");
  if (trailersOnly !== null) end = grpcStatus(res.headers);
  for (let at = 0; at + 5 <= bytes.byteLength; ) {
    const flags = bytes[at]!;
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    let data = bytes.subarray(at + 5, at + 5 + length);
    at += 5 + length;
    if (flags & 1) {
      compressed = true;
      data = await gunzipped(data);
    }
    if (wire.startsWith("grpc-web") && flags & 0x80) end = grpcStatus(trailerHeaders(dec.decode(data)));
    else if (!wire.startsWith("grpc-web") && flags & 0x02) end = connectEndStream(dec.decode(data));
    else messages.push(data);
  }
  return { messages, compressed, end };
}

function trailerHeaders(text: string): Headers {
  const h = new Headers();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) h.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return h;
}

function grpcStatus(h: Headers): WireResult["end"] {
  const status = Number(h.get("grpc-status"));
  if (status === 0) return "ok";
  return { code: status as Code, message: decodeURIComponent(h.get("grpc-message") ?? "") };
}

function connectEndStream(text: string): WireResult["end"] {
  const end = JSON.parse(text) as { error?: { code: string; message?: string } };
  if (!end.error) return "ok";
  return { code: codeFromString(end.error.code) ?? Code.Unknown, message: end.error.message ?? "" };
}

/** A request body that streams `total` bytes of `fill` in chunks, without a Content-Length, counting what was pulled. */
export function chunkedBody(total: number, prefix: Uint8Array = new Uint8Array(), fill = 0x20) {
  const chunk = new Uint8Array(16 * 1024).fill(fill);
  let sent = 0;
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const part = sent === 0 && prefix.byteLength > 0 ? prefix : chunk.subarray(0, Math.min(chunk.byteLength, total - sent));
      sent += part.byteLength;
      pulled += part.byteLength;
      controller.enqueue(part);
    },
  });
  return { stream, pulled: () => pulled };
}
