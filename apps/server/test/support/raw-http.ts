import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: [string, string][];
  body: string;
}

/**
 * One HTTP/1.1 exchange on a socket of its own, from `localAddress` (any 127.x.y.z address reaches a
 * loopback server, so tests can play several clients), with `Connection: close`.
 */
export function rawHttp(options: {
  port: number;
  localAddress?: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}): Promise<RawResponse> {
  const body = options.body ?? "";
  const head = [
    `${options.method} ${options.path} HTTP/1.1`,
    `Host: localhost:${options.port}`,
    "Connection: close",
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: options.port, localAddress: options.localAddress });
    const chunks: Buffer[] = [];
    socket.on("connect", () => socket.write(`${head}\r\n\r\n${body}`));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [rawHead = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = rawHead.split("\r\n");
      const headers = lines.map((line): [string, string] => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
      });
      let payload = rest.join("\r\n\r\n");
      if (headers.some(([name, value]) => name === "transfer-encoding" && value === "chunked"))
        payload = decodeChunked(payload);
      resolve({ status: Number(statusLine.split(" ")[1] ?? 0), headers, body: payload });
    });
  });
}

function decodeChunked(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const end = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, end), 16);
    if (!(size > 0)) return out;
    out += rest.slice(end + 2, end + 2 + size);
    rest = rest.slice(end + 2 + size + 2);
  }
}
