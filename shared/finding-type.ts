/**
 * The parts of a finding type:
 * `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact`.
 * Every part but the purpose may be missing (unknown or custom types still parse).
 */
interface FindingTypeParts {
  threatPurpose: string;
  resourceTypeAffected: string | undefined;
  threatFamilyName: string | undefined;
  detectionMechanism: string | undefined;
  artifact: string | undefined;
}

const parseFindingType = (type: string): FindingTypeParts => {
  const [beforeBang, artifact] = splitOnce(type, '!');
  const [threatPurpose, rest] = splitOnce(beforeBang, ':');
  const [resourceTypeAffected, family] = rest === undefined ? [undefined, undefined] : splitOnce(rest, '/');
  const [threatFamilyName, detectionMechanism] = family === undefined ? [undefined, undefined] : splitOnce(family, '.');
  return { threatPurpose, resourceTypeAffected, threatFamilyName, detectionMechanism, artifact };
};

const splitOnce = (text: string, separator: string): [string, string | undefined] => {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
};

export { parseFindingType };
