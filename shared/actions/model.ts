/**
 * The shared vocabulary of actions taken on a finding from outside the router: a button in
 * Slack or Teams, a resolved incident or ticket, or `actions simulate`. Every inbound channel
 * turns its request into an `ActionRequest`; one engine authorises, executes and audits it.
 */

/** What can be done to a finding. `suppress` creates a runtime suppression (see shared/suppressions/). */
type ActionName = 'acknowledge' | 'archive' | 'false-positive' | 'useful' | 'suppress';

const ACTION_NAMES: readonly ActionName[] = ['acknowledge', 'archive', 'false-positive', 'useful', 'suppress'];

/** Where the request came from; the allow-lists in routes.yml are per platform. */
type ActionPlatform = 'slack' | 'teams' | 'pagerduty' | 'opsgenie' | 'jira' | 'simulate';

interface ActionActor {
  platform: ActionPlatform;
  /** Platform user id (Slack `U…`, Teams AAD object id, `pagerduty:…` for a service). */
  id: string;
  /** Display name, for the message update and the audit record only — never for authorisation. */
  name?: string;
}

/** Which finding, as the button (or ticket) carried it; the engine re-reads it from GuardDuty before acting. */
interface FindingRef {
  id: string;
  accountId: string;
  region: string;
  type?: string;
}

interface ActionRequest {
  action: ActionName;
  finding: FindingRef;
  actor: ActionActor;
  /** `suppress` only: how long, in days (capped by `actions.suppress.maxDays`). */
  days?: number;
  /** `suppress`, `false-positive`: the analyst's words. */
  reason?: string;
  /** When the request was received (ms since epoch). */
  receivedAt: number;
}

/** How the engine reports back: in place of the original message where the platform allows. */
type ActionStatus = 'pending' | 'done' | 'refused' | 'failed';

interface ActionOutcome {
  request: ActionRequest;
  status: ActionStatus;
  /** One line for the human in chat: what was done, or why not. */
  message: string;
  /** For `suppress`: the id of the runtime suppression created. */
  suppressionId?: string;
}

export { ACTION_NAMES };
export type { ActionName, ActionActor, FindingRef, ActionRequest, ActionStatus, ActionOutcome };
