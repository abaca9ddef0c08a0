/**
 * The encoding of wire-names.generated.ts. A member is either its wire name (a scalar that
 * needs no conversion) or `[wire name, value]`, where value is a structure's name, a
 * timestamp, a list of values or a map of values. A map's keys are data (tag names, anomaly
 * profile names...): they are kept as they are, only its values are converted.
 */
type WireValue = string | readonly ['list', WireValue] | readonly ['map', WireValue];
type WireMember = string | readonly [wire: string, value: WireValue];
type WireShapes = Readonly<Record<string, Readonly<Record<string, WireMember>>>>;

/** Values other than structure names. */
const SCALAR = '@scalar';
const TIMESTAMP = '@timestamp';

export { SCALAR, TIMESTAMP };
export type { WireShapes, WireValue };
