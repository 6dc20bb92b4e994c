// Serves the Connect router on Workers fetch: every request is authenticated and decoded before its
// method runs (request gate), gzip both ways, and a server stream sends its response headers as soon
// as it is open, so a client can tell it is connected before the first event.

import { createContextKey, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import { universalServerResponseToFetch, type UniversalHandler, type UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import { requireBearerToken } from "./auth";
import { gzip } from "./gzip";
import { decodeRequest, JSON_READ_OPTIONS, kRequestBody, MAX_REQUEST_BYTES, RequestBody } from "./request-body";

/** Router options for the API edge. readMaxBytes backs up the request gate's own bound. */
export const edgeOptions = {
  requestGate: async (ctx: HandlerContext) => {
    await requireBearerToken(ctx);
    await decodeRequest(ctx);
  },
  jsonOptions: JSON_READ_OPTIONS,
  readMaxBytes: MAX_REQUEST_BYTES,
  acceptCompression: [gzip],
} satisfies Partial<UniversalHandlerOptions>;

const kStreamOpened = createContextKey<((headers: Headers) => void) | undefined>(undefined);

/** Called by a server-streaming method once its stream is in place: the response headers go out now. */
export function streamOpened(ctx: HandlerContext): void {
  ctx.values.get(kStreamOpened)?.(new Headers(ctx.responseHeader));
}

export async function serveRpc(handler: UniversalHandler, request: Request, values: ContextValues): Promise<Response> {
  const body = new RequestBody(request);
  let opened!: (headers: Headers) => void;
  const open = new Promise<Headers>((resolve) => (opened = resolve));
  values.set(kRequestBody, body).set(kStreamOpened, opened);
  // Connect unary responses use HTTP's own Content-Encoding, which the Workers runtime applies by
  // the client's real Accept-Encoding; Connect compressing too would gzip them twice.
  const header = new Headers(request.headers);
  header.set("accept-encoding", "identity");
  const served = handler({
    httpVersion: "1.1",
    method: request.method,
    url: request.url,
    header,
    body: body.replay(),
    signal: request.signal,
    contextValues: values,
  }).then(universalServerResponseToFetch);
  if (handler.method.methodKind !== "server_streaming") return served;
  // Connect resolves a stream's response with its first message; an open, quiet stream answers now.
  const first = await Promise.race([served, open]);
  if (first instanceof Response) return first;
  return new Response(bodyOnceServed(served), { status: 200, headers: first });
}

/** The body of a response that is still on its way; a client that goes away cancels it. */
function bodyOnceServed(served: Promise<Response>): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  served
    .then((res) => (res.body ? res.body.pipeTo(writable) : writable.close()))
    .catch((error: unknown) => writable.abort(error).catch(() => undefined));
  return readable;
}
