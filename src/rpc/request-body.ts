// The request of one RPC, read and decoded at the edge before its method runs: at most 64 KiB on
// the wire and after gzip, one message, strictly parsed. Oversized or undecodable requests get
// ResourceExhausted or InvalidArgument, never Internal, in whatever protocol the client speaks.

import { fromBinary, fromJsonString, type DescMessage } from "@bufbuild/protobuf";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { Failures } from "../domain/errors";
import { readAtMost } from "./bounded-read";
import { reject } from "./errors";
import { gzip } from "./gzip";

export const MAX_REQUEST_BYTES = 64 * 1024;

/** Strict JSON, for this check and for Connect's own parse: an unknown field or enum name is an error, never a silent default. */
export const JSON_READ_OPTIONS = { ignoreUnknownFields: false };

/** The body of the request being served, read once: by the check here, then replayed to Connect. */
export class RequestBody {
  private read: Promise<Uint8Array> | null = null;

  constructor(private readonly request: Request) {}

  /** The whole body, bounded; a body over the limit is refused after reading little more than the limit. */
  bytes(): Promise<Uint8Array> {
    this.read ??= readBounded(this.request, MAX_REQUEST_BYTES);
    return this.read;
  }

  /** The same bytes as Connect's handler reads a body. */
  replay(): AsyncIterable<Uint8Array> {
    const body = this;
    return {
      async *[Symbol.asyncIterator]() {
        yield await body.bytes();
      },
    };
  }
}

export const kRequestBody = createContextKey<RequestBody | undefined>(undefined);

/**
 * Connect request gate (after authentication): throws the documented error if the body is too large
 * or is not exactly one message of the method's request type. Connect then parses the same bytes.
 */
export async function decodeRequest(ctx: HandlerContext): Promise<void> {
  const body = ctx.values.get(kRequestBody);
  if (!body) throw new Error("RPC served without its RequestBody");
  const wire = wireOf(ctx);
  const bytes = await body.bytes();
  // Connect answers an unknown encoding itself: Unimplemented, naming the ones it supports.
  if (wire.encoding !== null && wire.encoding !== gzip.name) return;
  const messages = wire.enveloped ? envelopes(bytes) : [{ compressed: wire.encoding !== null, data: bytes }];
  if (messages.length !== 1) reject(Failures.undecodableRequest(`expected one message, got ${messages.length}`));
  const { compressed, data } = messages[0]!;
  if (compressed && wire.encoding === null) reject(Failures.undecodableRequest("compressed message without an encoding"));
  const message = compressed ? await gzip.decompress(data, MAX_REQUEST_BYTES) : data;
  parse(ctx.method.input, message, wire.json);
}

interface Wire {
  /** Connect's streams and every gRPC-Web call frame messages in envelopes; Connect unary sends the bare message. */
  enveloped: boolean;
  json: boolean;
  /** The request's compression, null for none. */
  encoding: string | null;
}

function wireOf(ctx: HandlerContext): Wire {
  const header = (name: string) => {
    const value = ctx.requestHeader.get(name)?.trim().toLowerCase();
    return value && value !== "identity" ? value : null;
  };
  const json = /^application\/(?:connect\+|grpc-web\+)?json\s*(?:;|$)/i.test(ctx.requestHeader.get("content-type") ?? "");
  if (ctx.protocolName !== "connect") return { enveloped: true, json, encoding: header("grpc-encoding") };
  if (ctx.method.methodKind === "unary") return { enveloped: false, json, encoding: header("content-encoding") };
  return { enveloped: true, json, encoding: header("connect-content-encoding") };
}

interface Envelope {
  compressed: boolean;
  data: Uint8Array;
}

/** Splits a request body into enveloped messages: 1 flag byte (bit 0 = compressed), 4 bytes big-endian length, the data. */
function envelopes(bytes: Uint8Array): Envelope[] {
  const out: Envelope[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.byteLength; ) {
    if (at + 5 > bytes.byteLength) reject(Failures.undecodableRequest("incomplete envelope"));
    const flags = view.getUint8(at);
    const length = view.getUint32(at + 1);
    if (flags > 1) reject(Failures.undecodableRequest(`unexpected envelope flags 0x${flags.toString(16)}`));
    if (at + 5 + length > bytes.byteLength) reject(Failures.undecodableRequest("incomplete envelope"));
    out.push({ compressed: flags === 1, data: bytes.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function parse(schema: DescMessage, data: Uint8Array, json: boolean): void {
  try {
    if (json) fromJsonString(schema, utf8.decode(data), JSON_READ_OPTIONS);
    else fromBinary(schema, data);
  } catch (error) {
    reject(Failures.undecodableRequest(error instanceof Error ? error.message : String(error)));
  }
}

async function readBounded(request: Request, maxBytes: number): Promise<Uint8Array> {
  // A declared length over the limit is refused unread; an undeclared one is counted as it arrives.
  if (Number(request.headers.get("content-length")) > maxBytes) reject(Failures.requestTooLarge(maxBytes));
  if (!request.body) return new Uint8Array();
  return (await readAtMost(request.body, maxBytes)) ?? reject(Failures.requestTooLarge(maxBytes));
}
