import { hash } from 'node:crypto';

/**
 * The one way a key is composed from parts (idempotency keys of jobs and digests, digest
 * groups, finding state, target ledger): sha256 of the JSON array of the parts. JSON quotes
 * and escapes every string, so no part can imitate a separator: ["a\nb", "c"] and
 * ["a", "b\nc"] differ, where joining with "\n" made them one key. The first part names the
 * kind of key, so keys of different kinds never meet.
 */
type KeyPart = string | number | readonly KeyPart[];

const composeKey = (kind: string, ...parts: readonly KeyPart[]): string => hash('sha256', JSON.stringify([kind, ...parts]), 'hex');

export { composeKey };
