import type * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { Digest } from '../delivery/digest.ts';
import type { SecretResolver } from '../secrets.ts';
import type { HttpClient } from './http.ts';
import type { Ledger } from './ledger.ts';

/**
 * What kind of place a target is. Chat and ticket targets are notified according to the
 * update policy; SIEM targets receive every update.
 */
type TargetKind = 'chat' | 'ticket' | 'siem' | 'local';

/** The exact bytes a delivery sends, plus the file extension used by `--payloads`. */
interface RenderedPayload {
  body: string;
  contentType: string;
  extension: string;
}

/** Per-delivery facts the sender needs; none of them is secret. */
interface DeliveryContext {
  /** Stable per (target, finding id, updatedAt): receivers that honour it drop duplicates. */
  idempotencyKey: string;
  attempt: number;
  /** Absolute time (ms since epoch) by which the send must have finished. */
  deadline: number;
}

interface TargetContext {
  secrets: SecretResolver;
  http: HttpClient;
  /** Where human-readable targets (console) write. */
  stdout: NodeJS.WritableStream;
  /** Remembers the remote record created per finding (ticket key, incident id). */
  ledger: Ledger;
}

interface Target {
  readonly name: string;
  readonly type: string;
  readonly kind: TargetKind;
  /** Pure: the same enriched finding always renders the same bytes. */
  render(finding: EnrichedFinding): RenderedPayload;
  /** Chat targets that can summarise a group of findings in one message (flood control). */
  renderDigest?(digest: Digest): RenderedPayload;
  /** Sends one rendered payload; throws DeliveryError (with `retryable`) on failure. */
  send(payload: RenderedPayload, delivery: DeliveryContext): Promise<void>;
}

interface TargetSetting {
  name: string;
  required: boolean;
  description: string;
}

/**
 * One least-privilege IAM statement (Effect Allow) for the deliver function's role. A
 * Resource may use CloudFormation pseudo parameters (`${AWS::Partition}`, `${AWS::Region}`,
 * `${AWS::AccountId}`): the template generator wraps each Resource in `Fn::Sub`.
 */
interface IamStatement {
  Action: string[];
  Resource: string[];
}

interface TargetDefinition<C extends { type: string }> {
  type: C['type'];
  kind: TargetKind;
  summary: string;
  configSchema: z.ZodMiniType<C>;
  /**
   * The target keeps one remote record per finding and updates it in place (a ticket, an
   * incident, an alert by dedup key): a finding's updates must reach it one at a time, in
   * updatedAt order. Absent: every delivery stands alone and may overtake another.
   */
  upserts?: true;
  create(name: string, config: C, context: TargetContext): Target;
  /** The statements `send` needs for these settings, no more (absent: the target declares none). */
  iamStatements?(settings: C): IamStatement[];
}

// biome-ignore lint: the registry holds definitions of different config types.
type AnyTargetDefinition = TargetDefinition<any>;

export type {
  TargetKind,
  RenderedPayload,
  DeliveryContext,
  TargetContext,
  Target,
  TargetSetting,
  TargetDefinition,
  AnyTargetDefinition,
  IamStatement,
};
