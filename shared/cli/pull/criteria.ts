import type { Condition } from '@aws-sdk/client-guardduty';
import { FindingsRouterError } from '../../errors.ts';

/**
 * `pull --criteria`: a small grammar translated to GuardDuty's FindingCriteria.
 *
 *   criteria := clause ( ',' clause )*
 *   clause   := field op value
 *   field    := a finding field as GuardDuty's ListFindings names it (camelCase, dotted)
 *   op       := '>=' | '>' | '<=' | '<'          value: a whole number
 *             | '=' | '!='                        value := v ( '|' v )*  (at most 50)
 *
 *   severity>=7                           → { severity: { GreaterThanOrEqual: 7 } }
 *   severity>=4,severity<7                → { severity: { GreaterThanOrEqual: 4, LessThan: 7 } }
 *   type=Recon:EC2/PortProbeUnprotectedPort|UnauthorizedAccess:EC2/SSHBruteForce
 *   accountId!=111111111111               → { accountId: { NotEquals: ['111111111111'] } }
 *   resource.resourceType=Instance
 *
 * The current condition members are
 * used, not the deprecated Gt/Gte/Lt/Lte/Eq/Neq: those are 32-bit integers, which cannot hold
 * the epoch milliseconds of `updatedAt`, and GuardDuty treats both families the same.
 * `updatedAt` and `service.archived` belong to --since/--until and --include-archived.
 */
type Criterion = Record<string, Condition>;

class CriteriaError extends FindingsRouterError {
  constructor(message: string) {
    super(message);
    this.name = 'CriteriaError';
  }
}

// The fields the grammar documents; any other camelCase path GuardDuty's ListFindings accepts
// passes through (the API's list grows with every feature, and the service judges it).
const COMMON_FIELDS = ['severity', 'confidence', 'type', 'accountId', 'region', 'id', 'resource.resourceType', 'service.action.actionType', 'service.resourceRole'];
const FIELD = /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$/;

const RESERVED: Record<string, string> = {
  updatedAt: 'use --since and --until',
  'service.archived': 'archived findings are left out; use --include-archived to pull them too',
};

const OPERATORS = {
  '>=': 'GreaterThanOrEqual',
  '>': 'GreaterThan',
  '<=': 'LessThanOrEqual',
  '<': 'LessThan',
  '=': 'Equals',
  '!=': 'NotEquals',
} as const satisfies Record<string, keyof Condition>;
type Operator = keyof typeof OPERATORS;

const MAX_VALUES = 50;
// The operator is the first one after the field name: values (finding types) may hold '!' or '='.
const CLAUSE = /^\s*([A-Za-z][A-Za-z0-9.]*)\s*(>=|<=|!=|>|<|=)\s*(.*?)\s*$/;

const closest = (field: string): string | undefined => {
  const lower = field.toLowerCase();
  return COMMON_FIELDS.find((f) => f.toLowerCase() === lower) ?? COMMON_FIELDS.find((f) => f.toLowerCase().endsWith(`.${lower}`));
};

const parseClause = (clause: string, criterion: Criterion): void => {
  const m = CLAUSE.exec(clause);
  if (!m) throw new CriteriaError(`criteria '${clause.trim()}': expected FIELD OP VALUE with OP one of >= > <= < = !=`);
  const [, field, op, raw] = m as unknown as [string, string, Operator, string];
  if (RESERVED[field]) throw new CriteriaError(`criteria '${clause.trim()}': ${RESERVED[field]}`);
  const hint = closest(field);
  if (!FIELD.test(field) || (hint !== undefined && hint !== field)) {
    throw new CriteriaError(`criteria '${clause.trim()}': '${field}' is not a finding field in GuardDuty's camelCase form${hint && hint !== field ? ` (did you mean ${hint}?)` : ''}`);
  }
  if (raw === '') throw new CriteriaError(`criteria '${clause.trim()}': no value after '${op}'`);
  const member = OPERATORS[op];
  const condition: Condition = criterion[field] ?? {};
  if (condition[member] !== undefined) throw new CriteriaError(`criteria '${clause.trim()}': ${field} ${op} is given twice`);
  if (op === '=' || op === '!=') {
    const values = raw.split('|').map((v) => v.trim());
    if (values.some((v) => v === '')) throw new CriteriaError(`criteria '${clause.trim()}': empty alternative in '${raw}'`);
    if (values.length > MAX_VALUES) throw new CriteriaError(`criteria '${clause.trim()}': at most ${MAX_VALUES} values, got ${values.length}`);
    (condition as Record<string, unknown>)[member] = values;
  } else {
    // GuardDuty's comparison operands are integers (Long): a fraction cannot be sent as such.
    if (!/^\d+$/.test(raw)) throw new CriteriaError(`criteria '${clause.trim()}': ${field} ${op} takes a whole number (GuardDuty compares integers), got '${raw}'`);
    (condition as Record<string, unknown>)[member] = Number(raw);
  }
  criterion[field] = condition;
};

/** Every --criteria flag's clauses, merged per field. Throws CriteriaError (one line) on the first bad clause. */
const parseCriteria = (texts: readonly string[]): Criterion => {
  const criterion: Criterion = {};
  for (const text of texts) {
    const clauses = text.split(',');
    if (clauses.every((c) => c.trim() === '')) throw new CriteriaError(`criteria '${text}': empty`);
    for (const clause of clauses) {
      if (clause.trim() === '') throw new CriteriaError(`criteria '${text}': empty clause`);
      parseClause(clause, criterion);
    }
  }
  return criterion;
};

export { parseCriteria, CriteriaError };
export type { Criterion };
