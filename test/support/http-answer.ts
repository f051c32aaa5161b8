import { type ClientRequest, type RequestOptions, request } from 'node:http';

/** An HTTP answer reduced to what a fast path and its Fastify route must agree on. */
export interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

const COMPARED_HEADERS = ['content-type', 'access-control-allow-origin', 'cache-control', 'content-length'];

/** The compared headers of a response (Node's or `inject`'s). */
export function pick(h: Record<string, unknown>): Record<string, string | undefined> {
  return Object.fromEntries(COMPARED_HEADERS.map((k) => [k, h[k] === undefined ? undefined : String(h[k])]));
}

/** One request over a real socket; `send` writes its body (if any) and ends it. */
export function overHttp(
  url: URL,
  options: RequestOptions,
  send: (req: ClientRequest) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: pick(res.headers), body: text }));
    });
    req.on('error', reject);
    send(req);
  });
}
