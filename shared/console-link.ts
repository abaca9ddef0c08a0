/**
 * A link to the finding in the GuardDuty console of the finding's own region and partition.
 * The id is URL-encoded: it comes from the finding and is not trusted.
 */
const CONSOLE_HOSTS: Record<string, string> = {
  aws: 'console.aws.amazon.com',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
  'aws-cn': 'console.amazonaws.cn',
};

const consoleLink = (finding: { id: string; region: string; partition?: string | undefined }): string => {
  const host = CONSOLE_HOSTS[finding.partition ?? 'aws'] ?? CONSOLE_HOSTS.aws;
  const region = /^[a-z]{2}(-[a-z]+)+-\d+$/.test(finding.region) ? finding.region : 'us-east-1';
  return `https://${host}/guardduty/home?region=${region}#/findings?macros=current&fId=${encodeURIComponent(finding.id.toWellFormed())}`;
};

export { consoleLink };
