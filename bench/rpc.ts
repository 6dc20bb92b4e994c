// A Connect JSON caller for the benches: one POST per call, the bearer token, the answer as JSON.

export type Rpc = (method: string, body: unknown) => Promise<Record<string, unknown>>;

export function connectJson(base: string, token: string): Rpc {
  return async (method, body) => {
    const res = await fetch(`${base}/${method}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
}
