-- The 20 remote IPs in the most findings in the last 7 days, with their ASN, ASN organisation and country (ASN number: network, API, Kubernetes and RDS actions; port probes carry the organisation only).
SELECT enrichment.remote.ip AS remote_ip,
       max(COALESCE(finding.service.action.networkConnectionAction.remoteIpDetails.organization.asn,
                    finding.service.action.awsApiCallAction.remoteIpDetails.organization.asn,
                    finding.service.action.kubernetesApiCallAction.remoteIpDetails.organization.asn,
                    finding.service.action.rdsLoginAttemptAction.remoteIpDetails.organization.asn)) AS asn,
       max(enrichment.remote.asnOrg) AS asn_org,
       max(enrichment.remote.countryName) AS country,
       count(DISTINCT finding.id) AS findings,
       count(DISTINCT finding.accountId) AS accounts
FROM guardduty_findings
WHERE dt >= CAST(CAST(current_date - INTERVAL '7' DAY AS DATE) AS VARCHAR)
  AND enrichment.remote.ip IS NOT NULL
GROUP BY enrichment.remote.ip
ORDER BY findings DESC, remote_ip
LIMIT 20
