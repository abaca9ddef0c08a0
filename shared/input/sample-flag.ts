/**
 * Whether GuardDuty marked a finding as a sample (CreateSampleFindings). EventBridge and the
 * S3 export carry `additionalInfo` free-form (`{ "sample": true }`); the GetFindings API
 * gives it as `{ "value": "<JSON text>", "type": "default" }`, the flag inside the text.
 */
const MAX_VALUE_CHARS = 64 * 1024;

const isSampleFinding = (additionalInfo: unknown): boolean => {
  if (typeof additionalInfo !== 'object' || additionalInfo === null) return false;
  const info = additionalInfo as Record<string, unknown>;
  if (info.sample === true) return true;
  const value = info.value;
  // Parsed only when the text could hold the flag: most findings' value is never parsed.
  if (typeof value !== 'string' || value.length > MAX_VALUE_CHARS || !value.includes('"sample"')) return false;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && (parsed as Record<string, unknown>).sample === true;
  } catch {
    return false;
  }
};

export { isSampleFinding };
