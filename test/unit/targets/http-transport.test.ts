import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError, DestinationRefusedError } from '../../../shared/errors.ts';
import { createHttpClient } from '../../../shared/targets/http.ts';

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
});
