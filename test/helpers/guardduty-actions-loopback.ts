/**
 * The GuardDuty loopback for the actions engine (ListDetectors, GetFindings, ArchiveFindings,
 * UpdateFindingsFeedback). It lives beside the code because `actions simulate` serves it too;
 * tests import it from here with the wire-form converter of the findings loopback.
 */
export { startActionsLoopback,  } from '../../shared/cli/actions/simulate/guardduty-loopback.ts';
export type { ActionsLoopback,   } from '../../shared/cli/actions/simulate/guardduty-loopback.ts';
export { apiWireFinding } from './guardduty-findings-loopback.ts';
