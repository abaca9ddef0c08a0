-- Findings still active: the latest update of each finding seen in the last 90 days is not archived; worst first.
SELECT finding_id, finding_type, account_id, account_name, region, severity, severity_label, updated_at, console_url
FROM (
  SELECT finding.id AS finding_id,
         finding.type AS finding_type,
         finding.accountId AS account_id,
         enrichment.account.name AS account_name,
         finding.region AS region,
         finding.severity AS severity,
         enrichment.severityLabel AS severity_label,
         finding.updatedAt AS updated_at,
         finding.service.archived AS archived,
         enrichment.consoleUrl AS console_url,
         row_number() OVER (PARTITION BY finding.accountId, finding.region, finding.id ORDER BY finding.updatedAt DESC, dt DESC) AS newest
  FROM guardduty_findings
  WHERE dt >= CAST(CAST(current_date - INTERVAL '90' DAY AS DATE) AS VARCHAR)
) latest
WHERE newest = 1 AND COALESCE(archived, false) = false
ORDER BY severity DESC, updated_at DESC, finding_id
LIMIT 1000
