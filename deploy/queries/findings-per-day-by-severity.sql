-- Findings per day and severity label, last 30 days (day: Firehose arrival day, UTC; a finding updated on several days counts on each).
SELECT dt AS day,
       enrichment.severityLabel AS severity_label,
       count(DISTINCT finding.id) AS findings
FROM guardduty_findings
WHERE dt >= CAST(CAST(current_date - INTERVAL '30' DAY AS DATE) AS VARCHAR)
GROUP BY dt, enrichment.severityLabel
ORDER BY day DESC, max(finding.severity) DESC, severity_label
