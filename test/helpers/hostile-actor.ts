import type { GuardDutyFinding } from '../../schemas/finding.ts';
import { HOSTILE, HOSTILE_LINE } from './findings.ts';

/**
 * `finding` with hostile text in every place the actor summary reads: the API call, its
 * remote party and caller, the DNS domain, the runtime process and container, first/last seen.
 * Kept apart from hostileFinding so the targets that do not show the actor keep their inputs.
 */
const withHostileActor = (finding: GuardDutyFinding): GuardDutyFinding => ({
  ...finding,
  resource: {
    ...finding.resource,
    containerDetails: { name: `web${HOSTILE.channel}`, image: `${HOSTILE.link}${HOSTILE.crlf}` },
  },
  service: {
    ...finding.service,
    eventFirstSeen: '2026-11-01T09:00:00.000Z',
    eventLastSeen: '2026-11-01T10:00:00.000Z',
    action: {
      actionType: 'AWS_API_CALL',
      awsApiCallAction: {
        api: `ListBuckets${HOSTILE.here}`,
        serviceName: `s3.amazonaws.com${HOSTILE.bold}`,
        userAgent: `aws-cli ${HOSTILE_LINE}`,
        remoteIpDetails: {
          ipAddressV4: '203.0.113.252',
          city: { cityName: `Bucharest${HOSTILE.ansi}${HOSTILE.lineSeparator}` },
          country: { countryName: `Romania ${HOSTILE.preEscaped}` },
          organization: { asn: '9009', asnOrg: `M247 ${HOSTILE.link} ${HOSTILE.codeBreakout}` },
        },
      },
    },
    runtimeDetails: { process: { name: `kworker${HOSTILE.user}`, executablePath: `/tmp/${HOSTILE.crlf}x`, pid: 4242, user: HOSTILE.c1 } },
  },
});

export { withHostileActor };
