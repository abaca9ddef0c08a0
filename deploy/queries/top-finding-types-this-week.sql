-- The 20 finding types with the most findings in the last 7 days, with how many accounts they touch and their worst severity.
SELECT finding.type AS finding_type,
       count(DISTINCT finding.id) AS findings,
       count(DISTINCT finding.accountId) AS accounts,
       max(finding.severity) AS max_severity
FROM guardduty_findings
WHERE dt >= CAST(CAST(current_date - INTERVAL '7' DAY AS DATE) AS VARCHAR)
GROUP BY finding.type
ORDER BY findings DESC, finding_type
LIMIT 20
