import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError, DestinationRefusedError } from '../../../shared/errors.ts';
import { createHttpClient, MAX_RESPONSE_BYTES } from '../../../shared/targets/http.ts';

/** The default transport (node:http with keep-alive agents) against real loopback sockets. */
const servers: (Server | TcpServer)[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const listen = async <S extends Server | TcpServer>(server: S): Promise<number> => {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

const failure = async (sending: Promise<unknown>): Promise<DeliveryError> => {
  try {
    await sending;
  } catch (error) {
    expect(error).toBeInstanceOf(DeliveryError);
    return error as DeliveryError;
  }
  throw new Error('expected the send to fail');
};

describe('HTTP client: node transport', () => {
  it('refuses a name that resolves to loopback without allowPrivateNetwork, before connecting', async () => {
    // Prepare: a raw TCP listener counts connection attempts
    let connections = 0;
    const port = await listen(createTcpServer((socket) => {
      connections++;
      socket.destroy();
    }));

    // Act
    const error = await failure(createHttpClient().send({ target: 't', url: `https://localhost:${port}/hook`, body: '{}', deadline: Date.now() + 5_000 }));

    // Assess
    expect(error).toBeInstanceOf(DestinationRefusedError);
    expect(error.message).toBe(`localhost:${port} resolves to a private, loopback or link-local address (set allowPrivateNetwork: true to allow)`);
    expect(connections).toBe(0);
  });

  it('reuses one keep-alive connection for sequential sends, and sends the body with its length', async () => {
    // Prepare
    const sockets = new Set<unknown>();
    const received: { length: string | undefined; body: string }[] = [];
    const port = await listen(createHttpServer(async (req, res) => {
      sockets.add(req.socket);
      let body = '';
      for await (const chunk of req) body += chunk;
      received.push({ length: req.headers['content-length'], body });
      res.writeHead(200, { 'x-answer': 'yes' });
      res.end('ok');
    }));
    const http = createHttpClient();

    // Act
    const responses = [];
    for (const body of ['{"n":1}', '{"é":2}', '{"n":3}']) {
      responses.push(await http.send({ target: 't', url: `http://127.0.0.1:${port}/hook`, body, deadline: Date.now() + 5_000, allowPrivateNetwork: true }));
    }

    // Assess
    expect(sockets.size).toBe(1);
    expect(received).toEqual([
      { length: '7', body: '{"n":1}' },
      { length: '8', body: '{"é":2}' },
      { length: '7', body: '{"n":3}' },
    ]);
    expect(responses.map((r) => [r.status, r.body, r.headers.get('x-answer')])).toEqual(Array(3).fill([200, 'ok', 'yes']));
  });

  it('a deadline reached while the body is still coming: timed out, retryable, with the status', async () => {
    // Prepare: headers at once, then the body never ends
    const port = await listen(createHttpServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.write('partial');
    }));

    // Act
    const error = await failure(
      createHttpClient().send({ target: 't', url: `http://127.0.0.1:${port}/hook`, body: '{}', deadline: Date.now() + 300, allowPrivateNetwork: true }),
    );

    // Assess
    expect(error).toMatchObject({ retryable: true, status: 503, message: 'response body failed: timed out' });
  });

  describe('response bodies are read up to MAX_RESPONSE_BYTES, then dropped', () => {
    const GIB = 1024 ** 3;

    /**
     * '/huge' answers `status` with a 1 GiB chunked body, written as the client reads it (never
     * allocated: one 64 KiB chunk, written again on 'drain'); '/small' answers 200 'ok'.
     * `written` counts what the server got onto the socket; `ended` settles when the response closes.
     */
    const hugeBodyServer = async (status: number) => {
      const stats = { written: 0, sockets: [] as unknown[] };
      let closed!: () => void;
      const ended = new Promise<void>((resolve) => {
        closed = resolve;
      });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const port = await listen(createHttpServer((req, res) => {
        stats.sockets.push(req.socket);
        req.resume();
        if (req.url === '/small') {
          res.end('ok');
          return;
        }
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.on('close', closed);
        const pump = (): void => {
          while (stats.written < GIB && !res.destroyed) {
            stats.written += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
      }));
      return { origin: `http://127.0.0.1:${port}`, stats, ended };
    };

    it('a 2xx with a 1 GiB body: delivered with the first 64 KiB, the connection dropped and not reused, memory flat', async () => {
      // Prepare
      const server = await hugeBodyServer(200);
      const http = createHttpClient();
      const send = (path: string) => http.send({ target: 't', url: `${server.origin}${path}`, body: '{}', deadline: Date.now() + 30_000, allowPrivateNetwork: true });
      await send('/small');
      const rssBefore = process.memoryUsage().rss;

      // Act
      const response = await send('/huge');
      await server.ended;
      const rssAfter = process.memoryUsage().rss;
      const next = await send('/small');

      // Assess
      expect(response).toMatchObject({ status: 200, truncated: true });
      expect(response.body).toBe('a'.repeat(MAX_RESPONSE_BYTES));
      expect(server.stats.written).toBeLessThan(64 * 1024 * 1024);
      expect(rssAfter - rssBefore).toBeLessThan(128 * 1024 * 1024);
      expect(next.body).toBe('ok');
      expect(server.stats.sockets).toHaveLength(3);
      expect(server.stats.sockets[2]).not.toBe(server.stats.sockets[1]);
    });

    it('a 5xx with a 1 GiB body: a classified, retryable DeliveryError with a short snippet, memory flat', async () => {
      // Prepare
      const server = await hugeBodyServer(503);
      const rssBefore = process.memoryUsage().rss;

      // Act
      const error = await failure(
        createHttpClient().send({ target: 't', url: `${server.origin}/huge`, body: '{}', deadline: Date.now() + 30_000, allowPrivateNetwork: true }),
      );
      await server.ended;
      const rssAfter = process.memoryUsage().rss;

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 503 });
      expect(error.message).toMatch(/^HTTP 503 rejected: a+… \[truncated\]$/);
      expect(error.message.length).toBeLessThanOrEqual(320);
      expect(server.stats.written).toBeLessThan(64 * 1024 * 1024);
      expect(rssAfter - rssBefore).toBeLessThan(128 * 1024 * 1024);
    });

    it('a body cut by a reset after the headers: a classified, retryable DeliveryError with the status', async () => {
      // Prepare
      const port = await listen(createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"partial":', () => res.socket?.destroy());
      }));

      // Act
      const error = await failure(
        createHttpClient().send({ target: 't', url: `http://127.0.0.1:${port}/hook`, body: '{}', deadline: Date.now() + 5_000, allowPrivateNetwork: true }),
      );

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 200 });
      expect(error.message).toMatch(/^response body failed: ECONNRESET/);
    });

    it('a fetch body longer than the bound is cut there too (injected transport)', async () => {
      // Prepare: a stream that would never end
      let pulled = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          pulled++;
          controller.enqueue(new Uint8Array(16 * 1024).fill(98));
        },
      });
      const http = createHttpClient({ fetch: async () => new Response(endless, { status: 500 }) });

      // Act
      const error = await failure(http.send({ target: 't', url: 'http://127.0.0.1:9/hook', body: '{}', deadline: Date.now() + 5_000, allowPrivateNetwork: true }));

      // Assess
      expect(error).toMatchObject({ retryable: true, status: 500 });
      expect(pulled).toBeLessThan(MAX_RESPONSE_BYTES / (16 * 1024) + 4);
    });

    it('whatever a transport throws or answers, the caller gets a DeliveryError', async () => {
      // Prepare: an answer without headers (a broken transport), and a thrown non-Error
      const broken = createHttpClient({ fetch: async () => ({ status: 503, body: null, text: async () => 'down' }) as unknown as Response });
      const throwing = createHttpClient({
        fetch: async () => {
          throw 'socket exploded';
        },
      });
      const request = { target: 't', url: 'http://127.0.0.1:9/hook', body: '{}', deadline: Date.now() + 5_000, allowPrivateNetwork: true };

      // Act
      const errors = [await failure(broken.send(request)), await failure(throwing.send(request))];

      // Assess
      expect(errors.map((e) => e.retryable)).toEqual([true, true]);
      expect(errors[1]?.message).toBe('request failed: socket exploded');
    });
  });
});
