import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A throwaway rsyslogd in the foreground: imtcp on 127.0.0.1 with a random port (written to a
 * port file), plain or TLS (rsyslog-gnutls, anonymous client auth, a self-signed server
 * certificate made here with openssl). Every message lands in `received.jsonl` as the parsed
 * RFC 5424 fields (jsonf template). No system log is touched: imuxsock/imklog are not loaded.
 *
 * Needs rsyslog, rsyslog-gnutls and openssl (.ci/run installs them).
 */
interface ReceivedSyslog {
  pri: string;
  timestamp: string;
  hostname: string;
  app: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
  raw: string;
}

interface Rsyslog {
  port: number;
  dir: string;
  /** PEM of the server certificate (self-signed, CN=localhost, SAN DNS:localhost and IP:127.0.0.1) when TLS. */
  certPath: string | undefined;
  received(): Promise<ReceivedSyslog[]>;
  /** Waits until at least `count` messages arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedSyslog[]>;
  stop(): Promise<void>;
}

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((path) => existsSync(path)) ?? 'rsyslogd';

const TEMPLATE = `template(name="jsonl" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="raw" name="rawmsg" format="jsonf")
}`;

/** A self-signed certificate and key in `dir` (`<name>.cert.pem`, `<name>.key.pem`). */
const makeSelfSignedCert = (dir: string, name: string, subjectAltName = 'DNS:localhost,IP:127.0.0.1'): { cert: string; key: string } => {
  const cert = join(dir, `${name}.cert.pem`);
  const key = join(dir, `${name}.key.pem`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', `subjectAltName=${subjectAltName}`, '-keyout', key, '-out', cert],
    { stdio: 'pipe' },
  );
  return { cert, key };
};

const startRsyslog = async (options: { tls?: boolean } = {}): Promise<Rsyslog> => {
  const dir = await mkdtemp(join(tmpdir(), 'rsyslog-'));
  await mkdir(join(dir, 'work'));
  const portFile = join(dir, 'port');
  const outFile = join(dir, 'received.jsonl');
  const pidFile = join(dir, 'rsyslogd.pid');
  let certPath: string | undefined;
  let global = `global(workDirectory="${dir}/work" maxMessageSize="64k")`;
  let module = 'module(load="imtcp")';
  if (options.tls) {
    const { cert, key } = makeSelfSignedCert(dir, 'server');
    certPath = cert;
    global = `global(workDirectory="${dir}/work" maxMessageSize="64k" DefaultNetstreamDriver="gtls"
  DefaultNetstreamDriverCAFile="${cert}" DefaultNetstreamDriverCertFile="${cert}" DefaultNetstreamDriverKeyFile="${key}")`;
    module = 'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")';
  }
  const conf = `${global}
${module}
${TEMPLATE}
ruleset(name="in") {
  action(type="omfile" file="${outFile}" template="jsonl")
}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="${portFile}" ruleset="in")
`;
  const confPath = join(dir, 'rsyslog.conf');
  await writeFile(confPath, conf);
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', confPath, '-i', pidFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let running = true;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running = false;
      resolve();
    }),
  );
  let port = 0;
  for (let waited = 0; port === 0; waited += 25) {
    if (!running || waited > 10_000) {
      if (running) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`rsyslogd did not start (exit ${child.exitCode ?? child.signalCode}): ${output}`);
    }
    const text = await readFile(portFile, 'utf8').catch(() => '');
    port = Number.parseInt(text, 10) || 0;
    if (port === 0) await sleep(25);
  }
  const received = async (): Promise<ReceivedSyslog[]> => {
    const text = await readFile(outFile, 'utf8').catch(() => '');
    // rsyslog may be mid-write: only lines that already end in a newline are complete.
    return text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ReceivedSyslog);
  };
  return {
    port,
    dir,
    certPath,
    received,
    waitFor: async (count, timeoutMs = 5_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const messages = await received();
        if (messages.length >= count) return messages;
        if (Date.now() > until) throw new Error(`rsyslog received ${messages.length} of ${count} messages; rsyslogd said: ${output}`);
        await sleep(20);
      }
    },
    stop: async () => {
      if (running) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(3_000)]);
        if (running) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
};

// ── Reading what the collector received: strict parsers written from the specs ──

interface ParsedCef {
  version: string;
  vendor: string;
  product: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  extension: [string, string][];
}

/**
 * CEF per the ArcSight CEF Implementation Standard: seven header fields split on unescaped
 * `|` (escapes `\|` and `\\` only), then `key=value` pairs where a key is the run of
 * letters/digits right before an unescaped `=` and after a space; values unescape `\\`, `\=`,
 * `\n`, `\r`. Anything else (raw CR/LF, an unknown escape, a stray `=`) throws.
 */
const parseCef = (line: string): ParsedCef => {
  if (/[\r\n]/.test(line)) throw new Error('CEF line contains a raw CR or LF');
  if (!line.startsWith('CEF:')) throw new Error('CEF line does not start with CEF:');
  const header: string[] = [];
  let current = '';
  let index = 0;
  for (; index < line.length && header.length < 7; index++) {
    const character = line[index]!;
    if (character === '\\') {
      const next = line[index + 1];
      if (next !== '\\' && next !== '|') throw new Error(`invalid header escape \\${next ?? ''} at ${index}`);
      current += next;
      index++;
    } else if (character === '|') {
      header.push(current);
      current = '';
    } else {
      current += character;
    }
  }
  if (header.length < 7) throw new Error('CEF header has fewer than 7 fields');
  const rest = line.slice(index);
  // Unescaped `=` positions: each one ends a key.
  const equals: number[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '\\') i++;
    else if (rest[i] === '=') equals.push(i);
  }
  const keys = equals.map((at) => {
    const match = /(?:^| )([A-Za-z0-9]+)$/.exec(rest.slice(0, at));
    if (match === null) throw new Error(`stray '=' in the extension at ${at}`);
    return { key: match[1]!, start: at - match[1]!.length, valueStart: at + 1 };
  });
  if (keys.length === 0 && rest.trim() !== '') throw new Error('extension without key=value pairs');
  if (keys.length > 0 && keys[0]!.start !== 0) throw new Error('extension does not start with a key');
  const extension = keys.map(({ key, valueStart }, k): [string, string] => {
    const next = keys[k + 1];
    const raw = next === undefined ? rest.slice(valueStart) : rest.slice(valueStart, next.start - 1);
    return [key, unescapeExtension(raw)];
  });
  const [version, vendor, product, deviceVersion, signatureId, name, severity] = header as [string, string, string, string, string, string, string];
  return { version, vendor, product, deviceVersion, signatureId, name, severity, extension };
};

const unescapeExtension = (raw: string): string =>
  raw.replace(/\\(.?)/g, (_match, next: string) => {
    const value = { '\\': '\\', '=': '=', n: '\n', r: '\r' }[next];
    if (value === undefined) throw new Error(`invalid extension escape \\${next}`);
    return value;
  });

/**
 * RFC 5424 STRUCTURED-DATA: `-` or `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]...`, where a
 * PARAM-VALUE escapes `"`, `\\` and `]` with a backslash (a backslash before anything else is kept).
 */
const parseStructuredData = (sd: string): { id: string; params: [string, string][] }[] => {
  if (sd === '-') return [];
  const elements: { id: string; params: [string, string][] }[] = [];
  let i = 0;
  const name = (): string => {
    const match = /^[^= \]"]{1,32}/.exec(sd.slice(i));
    if (match === null || /[^\x21-\x7e]/.test(match[0])) throw new Error(`invalid SD-NAME at ${i}`);
    i += match[0].length;
    return match[0];
  };
  while (i < sd.length) {
    if (sd[i] !== '[') throw new Error(`expected '[' at ${i}`);
    i++;
    const id = name();
    const params: [string, string][] = [];
    while (sd[i] === ' ') {
      i++;
      const paramName = name();
      if (sd.slice(i, i + 2) !== '="') throw new Error(`expected '="' at ${i}`);
      i += 2;
      let value = '';
      for (;;) {
        const character = sd[i];
        if (character === undefined) throw new Error('unterminated PARAM-VALUE');
        if (character === '\\' && ['"', '\\', ']'].includes(sd[i + 1] ?? '')) {
          value += sd[i + 1];
          i += 2;
        } else if (character === '"') {
          i++;
          break;
        } else if (character === ']') {
          throw new Error(`unescaped ']' in PARAM-VALUE at ${i}`);
        } else {
          value += character;
          i++;
        }
      }
      params.push([paramName, value]);
    }
    if (sd[i] !== ']') throw new Error(`expected ']' at ${i}`);
    i++;
    elements.push({ id, params });
  }
  return elements;
};

export { startRsyslog, makeSelfSignedCert, parseCef, parseStructuredData };
export type { Rsyslog, ReceivedSyslog };
