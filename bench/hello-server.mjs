// Baseline for the decision benchmark: a plain node:http server that does the minimum an ad
// endpoint must — read and parse the same JSON body, answer a same-size JSON — and nothing else.
import { createServer } from 'node:http';

const size = Number(process.env.RESPONSE_BYTES ?? 600);
const filler = 'x'.repeat(Math.max(0, size - 60));
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    const parsed = JSON.parse(body);
    const out = JSON.stringify({ placementId: parsed.placementId, ok: true, filler });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
