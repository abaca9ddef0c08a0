import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * What a Firehose delivery stream writes to S3 for the records it took: records concatenated in
 * arrival order (each already ends in `\n`, so an object is NDJSON), cut into objects by the
 * buffering hints, GZIP-compressed, under the stream's Prefix evaluated at the arrival time of
 * the object's oldest record (as Firehose documents for `!{timestamp:...}`), named
 * `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<random>.gz`.
 */
interface ArrivedRecord {
  data: string;
  arrival: Date;
}

interface StreamSettings {
  streamName: string;
  /** ExtendedS3DestinationConfiguration.Prefix, e.g. `findings/dt=!{timestamp:yyyy-MM-dd}/`. */
  prefix: string;
  compression: string;
  buffering: { IntervalInSeconds: number; SizeInMBs: number };
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** The Java DateTimeFormatter subset Firehose prefixes use (UTC). */
const formatUtc = (pattern: string, at: Date): string => {
  const fields: Record<string, string> = {
    yyyy: String(at.getUTCFullYear()),
    MM: pad(at.getUTCMonth() + 1),
    dd: pad(at.getUTCDate()),
    HH: pad(at.getUTCHours()),
    mm: pad(at.getUTCMinutes()),
    ss: pad(at.getUTCSeconds()),
  };
  const rest = pattern.replace(/yyyy|MM|dd|HH|mm|ss/g, (token) => fields[token]!);
  if (/[a-zA-Z]/.test(rest)) throw new Error(`timestamp pattern ${pattern}: only yyyy MM dd HH mm ss are simulated`);
  return rest;
};

/** Evaluates a Firehose S3 prefix; any namespace other than timestamp fails (the simulation would be wrong). */
const evaluatePrefix = (prefix: string, oldestArrival: Date): string =>
  prefix.replace(/!\{([a-z-]+):([^}]+)\}/g, (_, namespace: string, pattern: string) => {
    if (namespace !== 'timestamp') throw new Error(`prefix ${prefix}: !{${namespace}:...} is not simulated`);
    return formatUtc(pattern, oldestArrival);
  });

/** Writes the objects under `bucketDir` (one folder per S3 key segment); returns their keys. */
const writeFirehoseObjects = (bucketDir: string, stream: StreamSettings, records: readonly ArrivedRecord[]): string[] => {
  if (stream.compression !== 'GZIP') throw new Error(`compression ${stream.compression} is not simulated`);
  const ordered = [...records].sort((a, b) => a.arrival.getTime() - b.arrival.getTime());
  const maxBytes = stream.buffering.SizeInMBs * 1024 * 1024;
  const maxAgeMs = stream.buffering.IntervalInSeconds * 1000;
  const keys: string[] = [];
  let buffer: ArrivedRecord[] = [];
  let bytes = 0;
  const flush = () => {
    const oldest = buffer[0];
    if (oldest === undefined) return;
    const key = `${evaluatePrefix(stream.prefix, oldest.arrival)}${stream.streamName}-1-${formatUtc('yyyy-MM-dd-HH-mm-ss', oldest.arrival)}-${randomUUID()}.gz`;
    const file = join(bucketDir, ...key.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, gzipSync(buffer.map((record) => record.data).join('')));
    keys.push(key);
    buffer = [];
    bytes = 0;
  };
  for (const record of ordered) {
    const size = Buffer.byteLength(record.data);
    const oldest = buffer[0];
    if (oldest !== undefined && (record.arrival.getTime() - oldest.arrival.getTime() >= maxAgeMs || bytes + size > maxBytes)) flush();
    buffer.push(record);
    bytes += size;
  }
  flush();
  return keys;
};

export { writeFirehoseObjects };
export type { ArrivedRecord, StreamSettings };
