// Figure 2's baseline, in its own process: a bare node:http keep-alive loop that POSTs the
// bodies replay rendered (DIR/<target>/<file>) to BASE/<target> with `concurrency` requests in
// flight; prints the seconds from the first request to the last response.
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';

const [dir, base, concurrencyText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const work = readdirSync(dir).flatMap((target) => readdirSync(join(dir, target)).map((f) => ({ target, body: readFileSync(join(dir, target, f)) })));
const agent = new Agent({ keepAlive: true });
const { hostname, port } = new URL(base);
const post = ({ target, body }) =>
  new Promise((resolve, reject) => {
    const req = request({ agent, hostname, port, method: 'POST', path: `/${target}`, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
let next = 0;
const worker = async () => {
  while (next < work.length) await post(work[next++]);
};
const start = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - start) / 1000;
agent.destroy();
process.stdout.write(`${JSON.stringify({ requests: work.length, seconds })}\n`);
