import { describe, expect, it } from 'vitest';
import { MIN_FRAGMENT, REDACTED, redactText } from '../../shared/redact.ts';

/** Every MIN_FRAGMENT-character piece of `text`. */
const fragmentsOf = (text: string): string[] => Array.from({ length: Math.max(0, text.length - MIN_FRAGMENT + 1) }, (_, i) => text.slice(i, i + MIN_FRAGMENT));

const leakedFragments = (output: string, secret: string): string[] => fragmentsOf(secret).filter((fragment) => output.includes(fragment));

const TOKEN = 'R0ut1ngK3y-4f9c2b7e81d04a6c9e53b1f7';
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The forms a receiver echoes a secret in; each must be masked whole and in every piece. */
const FORMS: [string, string][] = [
  ['raw', TOKEN],
  ['URL-encoded', encodeURIComponent(`${TOKEN}/+=`)],
  ['base64', base64(TOKEN)],
  ['Basic user:pass', base64(`u:${TOKEN}`)],
  ['base64url', base64(`ab${TOKEN}`).replace(/\+/g, '-').replace(/\//g, '_')],
];

describe('redactText', () => {
  describe('a secret straddling the cut: redacted first, cut after', () => {
    it.each(FORMS)('%s: no piece of it survives any cut position', (_name, form) => {
      // Prepare: the form starts at every offset around a 300-character cut
      const secrets = [TOKEN, `${TOKEN}/+=`];
      const outputs: string[] = [];

      // Act
      for (let start = 300 - form.length; start <= 300; start++) {
        outputs.push(redactText(`${'x'.repeat(start)}${form} tail`, secrets, { oneLine: true, maxLength: 300 }));
      }

      // Assess
      for (const output of outputs) {
        expect(output.length).toBeLessThanOrEqual(300);
        expect(leakedFragments(output, form)).toEqual([]);
      }
    });
  });

  it('masks a piece of a secret that a receiver cut short, at the end, the start or inside the text', () => {
    // Prepare
    const head = TOKEN.slice(0, 12);
    const tail = TOKEN.slice(-9);
    const middle = TOKEN.slice(10, 20);

    // Act
    const output = redactText(`got ${head}... and ...${tail} and "${middle}"`, [TOKEN]);

    // Assess
    expect(output).toBe(`got ${REDACTED}... and ...${REDACTED} and "${REDACTED}"`);
  });

  it('masks URL credentials and the Basic header node:http builds from them, keeping the host', () => {
    // Prepare
    const url = 'https://hook-user:p%40ss-w0rd-9f2c61@hooks.example.com/in/abc';
    const basic = base64('hook-user:p@ss-w0rd-9f2c61');

    // Act
    const output = redactText(`denied for ${url} with Authorization=Basic ${basic}; raw p@ss-w0rd-9f2c61`, [url]);

    // Assess
    expect(output).not.toContain('w0rd-9f2c61');
    expect(leakedFragments(output, basic)).toEqual([]);
    expect(output).toContain('https://hooks.example.com/[REDACTED]');
  });

  it("masks a webhook path and its token-like segments, not the words of the path in a receiver's message", () => {
    // Prepare
    const url = 'https://example.logic.azure.com/workflows/0ec499be1a2b4c3d9f/triggers/manual/paths/invoke?api-version=2016-06-01&sig=Zx81kQ_tw9vXnB3m';

    // Act
    const output = redactText(
      'WorkflowTriggerIsNotEnabled: flow 0ec499be1a2b4c3d9f is off; Cannot POST /workflows/0ec499be1a2b4c3d9f/triggers/manual/paths/invoke; sig Zx81kQ_tw9v',
      [url],
    );

    // Assess
    expect(output).toBe(`WorkflowTriggerIsNotEnabled: flow ${REDACTED} is off; Cannot POST ${REDACTED}; sig ${REDACTED}`);
  });

  it('masks the value after Basic/Bearer in an auth pair, not the scheme word', () => {
    // Prepare
    const text = '{"authorization":"Bearer eyJhbGciOi.payload.sig"} Authorization: Basic dXNlcjpwYXNz';

    // Act
    const output = redactText(text);

    // Assess
    expect(output).toBe(`{"authorization":"Bearer ${REDACTED}"} Authorization: Basic ${REDACTED}`);
  });

  it('a cut never splits the mask itself', () => {
    // Prepare
    const text = `${'y'.repeat(95)}${TOKEN}`;

    // Act
    const output = redactText(text, [TOKEN], { maxLength: 100 });

    // Assess
    expect(output).not.toMatch(/\[REDAC(?!TED\])/);
    expect(output.length).toBeLessThanOrEqual(100);
  });
});
