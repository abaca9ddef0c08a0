// Figure 1's baseline: read an NDJSON file and JSON.parse every line, repeated for at least
// `minMs` of CPU; prints the CPU per finding (µs), start-up excluded.
import { readFileSync } from 'node:fs';

const [file, minMs = '300'] = process.argv.slice(2);
let findings = 0;
let sink = 0;
const start = process.cpuUsage();
const spentMs = () => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
};
do {
  const text = readFileSync(file, 'utf8');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    sink += JSON.parse(line).detail ? 1 : 0;
    findings++;
  }
} while (spentMs() < Number(minMs));
if (sink !== findings) throw new Error('parse baseline: an event without detail');
process.stdout.write(`${JSON.stringify({ usPerFinding: (spentMs() * 1000) / findings })}\n`);
