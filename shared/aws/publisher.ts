import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ENRICHED_DETAIL_TYPE, ENRICHED_SOURCE } from '../../schemas/envelope.ts';
import type { EnrichedFinding } from '../../schemas/enriched.ts';
import { FindingsRouterError } from '../errors.ts';

/**
 * Publishes enriched findings to the project bus. A failed entry is an error: the enrich
 * Lambda fails, EventBridge retries it, and delivery idempotency absorbs the repeat.
 */
class PublishError extends FindingsRouterError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PublishError';
  }
}

const publishEnriched = async (client: EventBridgeClient, busName: string, enriched: EnrichedFinding): Promise<void> => {
  const response = await client.send(
    new PutEventsCommand({
      Entries: [{ EventBusName: busName, Source: ENRICHED_SOURCE, DetailType: ENRICHED_DETAIL_TYPE, Detail: JSON.stringify(enriched) }],
    }),
  );
  if ((response.FailedEntryCount ?? 0) > 0) {
    const entry = response.Entries?.find((e) => e.ErrorCode);
    throw new PublishError(`PutEvents rejected the enriched finding ${enriched.finding.id}: ${entry?.ErrorCode} ${entry?.ErrorMessage ?? ''}`.trim());
  }
};

export { publishEnriched };
