-- Findings per account with the account name from enrichment, last 30 days: how many, how many High or Critical, the worst severity.
SELECT finding.accountId AS account_id,
       max(enrichment.account.name) AS account_name,
       count(DISTINCT finding.id) AS findings,
       count(DISTINCT CASE WHEN enrichment.severityLabel IN ('high', 'critical') THEN finding.id END) AS high_or_critical,
       max(finding.severity) AS max_severity
FROM guardduty_findings
WHERE dt >= CAST(CAST(current_date - INTERVAL '30' DAY AS DATE) AS VARCHAR)
GROUP BY finding.accountId
ORDER BY findings DESC, account_id
