import { describe, expect, it } from 'vitest';
import { letterBody } from '../../../shared/aws/queues.ts';

describe('Dead letters: always sendable', () => {
  const letter = (payload: unknown) => ({ reason: '$.detail.id: Invalid input', stage: 'enrich' as const, payload, deadLetteredAt: '2026-11-28T00:00:00.000Z' });

  it('keeps a small payload whole', () => {
    // Act
    const body = JSON.parse(letterBody(letter({ a: 1 })));
    // Assess
    expect(body.payload).toEqual({ a: 1 });
  });

  it('replaces an oversized payload by its size, hash and head, keeping the reason', () => {
    // Prepare
    const big = { blob: 'x'.repeat(300 * 1024) };
    // Act
    const text = letterBody(letter(big));
    // Assess
    expect(Buffer.byteLength(text)).toBeLessThan(256 * 1024);
    expect(JSON.parse(text)).toMatchObject({ reason: '$.detail.id: Invalid input', payload: { truncated: true, sizeBytes: 307_211 } });
  });

  it('survives a payload too deep to serialise', () => {
    // Prepare
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 20_000; i++) deep = (deep.n = {}) as Record<string, unknown>;
    // Act
    const body = JSON.parse(letterBody(letter(root)));
    // Assess
    expect(body.payload.truncated).toBe(true);
    expect(body.reason).toContain('$.detail.id');
  });
});
