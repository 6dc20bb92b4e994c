// Free loopback TCP ports for the regtest nodes the end-to-end tests start.
// The OS picks them; this process never hands out the same port twice, even after it is released.
import { createServer } from "node:net";

const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = await bindEphemeral();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("freePort: the OS kept offering ports this process already handed out");
}

function bindEphemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("freePort: no port assigned"))));
    });
  });
}
