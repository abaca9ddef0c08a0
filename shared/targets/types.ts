import type * as z from 'zod/mini';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import type { Digest } from '../delivery/digest.ts';
import type { RateLimit } from '../delivery/rate-limit.ts';
import type { SecretResolver } from '../secrets.ts';
import type { HttpClient } from './http.ts';
import type { Ledger } from './ledger.ts';

/**
 * What kind of place a target is, for people reading the `targets` list and the report (which
 * orders previews by it). It decides nothing: the delivery policy is the definition's
 * `updates`, `digest` and `local`.
 */
type TargetCategory = 'chat' | 'ticket' | 'siem' | 'local';

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

/** One finding's delivery: what `render` made of it, and the finding itself (no target parses its own bytes again). */
interface FindingSendJob extends DeliveryContext {
  payload: RenderedPayload;
  finding: EnrichedFinding;
  digest?: undefined;
}

/** One digest's delivery (only to targets that render digests). */
interface DigestSendJob extends DeliveryContext {
  payload: RenderedPayload;
  digest: Digest;
  finding?: undefined;
}

type SendJob = FindingSendJob | DigestSendJob;

interface TargetContext {
  secrets: SecretResolver;
  http: HttpClient;
  /** Where human-readable targets (console) write. */
  stdout: NodeJS.WritableStream;
  /** Remembers the remote record created per finding (ticket key, incident id). */
  ledger: Ledger;
}

/** A target that renders single findings only: it is sent finding jobs only. */
interface FindingTarget {
  readonly name: string;
  /** Pure: the same enriched finding always renders the same bytes. */
  render(finding: EnrichedFinding): RenderedPayload;
  renderDigest?: undefined;
  /** Sends one job; throws DeliveryError (with `retryable`) on failure. */
  send(job: FindingSendJob): Promise<void>;
}

/** A target that can also summarise a group of findings in one message (flood control). */
interface DigestTarget {
  readonly name: string;
  render(finding: EnrichedFinding): RenderedPayload;
  renderDigest(digest: Digest): RenderedPayload;
  send(job: SendJob): Promise<void>;
}

type Target = FindingTarget | DigestTarget;

/**
 * One least-privilege IAM statement (Effect Allow) for the deliver function's role. A
 * Resource may use CloudFormation pseudo parameters (`${AWS::Partition}`, `${AWS::Region}`,
 * `${AWS::AccountId}`): the template generator wraps each Resource in `Fn::Sub`.
 */
interface IamStatement {
  Action: string[];
  Resource: string[];
}

/** Bounds the receiving service puts on one delivery; render stays within them. */
interface TargetLimits {
  /** Largest body (UTF-8 bytes) the service accepts in one request or message. */
  payloadBytes: number;
  /** Where the figure comes from (the service's documentation), for the docs. */
  source: string;
}

type Outcome = 'delivered' | 'retryable' | 'permanent';

interface TargetDefinition<C extends { type: string }> {
  type: C['type'];
  /** Display only (see TargetCategory). */
  category: TargetCategory;
  summary: string;
  configSchema: z.ZodMiniType<C>;
  /**
   * Which updates of a finding reach it. 'notify-policy': people read it, so the route's
   * `notify` policy decides (first sighting, severity rise, ...). 'every-update': machines
   * index it, so every update is delivered.
   */
  updates: 'notify-policy' | 'every-update';
  /**
   * A grouping route holds its findings for this target for the group's window (Critical goes
   * at once); they go out as one digest message where the target renders one (renderDigest),
   * else one by one when the window closes.
   */
  digest: boolean;
  /** It writes on the machine it runs on (stdout, a file): `replay --live` sends to it, remote targets only under `--send`. */
  local: boolean;
  /**
   * The target keeps one remote record per finding and updates it in place (a ticket, an
   * incident, an alert by dedup key): a finding's updates must reach it one at a time, in
   * updatedAt order. Absent: every delivery stands alone and may overtake another.
   */
  upserts?: true;
  /** The service's documented rate, applied unless the target sets `rateLimit` (absent: unthrottled). */
  rateLimit?: RateLimit;
  /** The service's size bound on one delivery, where it has one. */
  limits?: TargetLimits;
  /**
   * How this target classifies HTTP answers where it differs from the shared rule (2xx
   * delivered; 408, 429, 5xx retryable; anything else permanent), e.g. a 204 where the
   * service always answers with a body. Absent: it follows the shared rule, or sends no HTTP.
   */
  statusExceptions?: Partial<Record<number, Outcome>>;
  /**
   * A complete, valid configuration: shown by `targets` and the docs, and what the contract
   * tests build the target from. Secrets are references (`{ env: ... }`), never values.
   */
  example: C;
  create(name: string, config: C, context: TargetContext): Target;
  /** The statements `send` needs for these settings, no more (absent: the target declares none). */
  iamStatements?(settings: C): IamStatement[];
}

// biome-ignore lint: the registry holds definitions of different config types.
type AnyTargetDefinition = TargetDefinition<any>;

/**
 * The part of a definition that config compilation reads. Each target file declares it as its
 * own constant and spreads it into the definition, so a bundle that only compiles config (route)
 * imports the spec and esbuild leaves the rendering and sending code out.
 */
type TargetSpec<C extends { type: string }> = Pick<TargetDefinition<C>, 'type' | 'category' | 'configSchema' | 'updates' | 'digest' | 'local'>;

// biome-ignore lint: the registry holds specs of different config types.
type AnyTargetSpec = TargetSpec<any>;

export type {
  RenderedPayload,
  DeliveryContext,
  FindingSendJob,
  SendJob,
  TargetContext,
  Target,
  DigestTarget,
  TargetDefinition,
  AnyTargetDefinition,
  TargetSpec,
  AnyTargetSpec,
  IamStatement,
};
