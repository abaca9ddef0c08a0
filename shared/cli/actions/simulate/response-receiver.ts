import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback that answers like Slack's `response_url`: `ok` to a JSON body with
 * `replace_original`, `invalid_payload` (400) otherwise. It keeps what it was sent.
 */
interface ResponseReceiver {
  url: string;
  updates: Record<string, unknown>[];
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const startResponseReceiver = async (): Promise<ResponseReceiver> => {
  const updates: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    readBody(req)
      .then((text) => {
        const body = JSON.parse(text) as Record<string, unknown>;
        if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/json') || body.replace_original !== true || !Array.isArray(body.blocks)) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
          return;
        }
        updates.push(body);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      })
      .catch(() => res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/actions/T000/1/response`;
  return {
    url,
    updates,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

export { startResponseReceiver };
export type { ResponseReceiver };
