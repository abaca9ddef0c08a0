-- Finding types new this week: first seen in the last 7 days and never in the 83 days before (90 days of history scanned).
SELECT finding.type AS finding_type,
       min(dt) AS first_seen,
       count(DISTINCT finding.id) AS findings,
       count(DISTINCT finding.accountId) AS accounts,
       max(finding.severity) AS max_severity
FROM guardduty_findings
WHERE dt >= CAST(CAST(current_date - INTERVAL '90' DAY AS DATE) AS VARCHAR)
GROUP BY finding.type
HAVING min(dt) >= CAST(CAST(current_date - INTERVAL '7' DAY AS DATE) AS VARCHAR)
ORDER BY first_seen DESC, finding_type
