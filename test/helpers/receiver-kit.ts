import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the loopback receivers (jira, servicenow, opsgenie, pagerduty, elasticsearch, splunk) share. */

/** A request as a receiver records it. */
interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A scripted answer that replaces the receiver's own. */
interface ForcedAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** The whole request body. */
const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** Answers `status` with `body`; 204 and 304 go without one, as HTTP requires. */
const writeAnswer = (res: ServerResponse, contentType: string, answer: ForcedAnswer): void => {
  const nullBody = answer.status === 204 || answer.status === 304;
  res.writeHead(answer.status, { 'content-type': contentType, ...answer.headers });
  res.end(nullBody ? undefined : (answer.body ?? ''));
};

/** 'hang': never answer; 'reset': drop the connection. True when the fault took the request. */
const faulted = <T>(req: IncomingMessage, forced: T | 'hang' | 'reset'): forced is 'hang' | 'reset' => {
  if (forced === 'hang') return true;
  if (forced === 'reset') {
    req.socket.destroy();
    return true;
  }
  return false;
};

/** Listens on a free loopback port; the origin and a close that also ends kept-alive connections. */
const listenLoopback = async (server: Server): Promise<{ origin: string; close: () => Promise<void> }> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export { faulted, listenLoopback, readBody, writeAnswer };
export type { ForcedAnswer, ReceivedRequest };
