import type { RouterConfig } from '../shared/config/compile.ts';
import { targetDefinition } from '../shared/targets/registry.ts';
import type { IamStatement } from '../shared/targets/types.ts';

/**
 * The deliver role's permissions for the routes file's targets, generated at packaging time
 * from each target definition's `iamStatements(settings)`: the topics, streams, domains,
 * collections and buses the file names, exactly those. A target type that calls no AWS API
 * (webhooks, chat, syslog, files) declares none. Statements with the same actions are merged
 * (one statement per action set, resources sorted), so the template does not depend on the
 * order of targets in the file.
 */

const SID_PREFIX = 'RoutesFileTargets';

/** A Resource is written as `Fn::Sub` only when it uses a pseudo parameter (cfn-lint flags a needless Sub). */
type TemplateResource = string | { 'Fn::Sub': string };

interface TemplateStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: TemplateResource[];
}

/** A target whose settings cannot be turned into exact resources; packaging stops with this one line. */
class TargetPermissionError extends Error {
  override name = 'TargetPermissionError';
}

const templateResource = (arn: string): TemplateResource => (arn.includes('${') ? { 'Fn::Sub': arn } : arn);

const deliverTargetStatements = (routes: Pick<RouterConfig, 'targets' | 'file'>): TemplateStatement[] => {
  const byActions = new Map<string, { actions: string[]; resources: Set<string> }>();
  const targets = [...routes.targets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const target of targets) {
    let statements: IamStatement[];
    try {
      statements = targetDefinition(target.type)?.iamStatements?.(target.settings) ?? [];
    } catch (cause) {
      throw new TargetPermissionError(`${routes.file}: target '${target.name}': ${(cause as Error).message}`, { cause });
    }
    for (const statement of statements) {
      const actions = [...new Set(statement.Action)].sort();
      const key = actions.join(' ');
      const group = byActions.get(key) ?? { actions, resources: new Set<string>() };
      for (const resource of statement.Resource) group.resources.add(resource);
      byActions.set(key, group);
    }
  }
  return [...byActions.values()]
    .sort((a, b) => (a.actions.join(' ') < b.actions.join(' ') ? -1 : 1))
    .map((group, index) => ({
      Sid: `${SID_PREFIX}${index + 1}`,
      Effect: 'Allow',
      Action: group.actions,
      Resource: [...group.resources].sort().map(templateResource),
    }));
};

interface PolicyResources {
  Resources?: Record<string, { Properties?: { Policies?: { PolicyDocument: { Statement: unknown[] } }[] } }>;
}

/** Replaces the generated statements in DeliverRole's first policy (idempotent across hooks). */
const addDeliverStatements = (resources: PolicyResources, statements: readonly TemplateStatement[]): void => {
  const document = resources.Resources?.DeliverRole?.Properties?.Policies?.[0]?.PolicyDocument;
  if (!document) throw new TargetPermissionError('serverless.yml: resources.Resources.DeliverRole has no inline policy to add the target statements to');
  const own = (statement: unknown): boolean => typeof (statement as { Sid?: unknown }).Sid === 'string' && (statement as { Sid: string }).Sid.startsWith(SID_PREFIX);
  document.Statement = [...document.Statement.filter((statement) => !own(statement)), ...statements];
};

export { addDeliverStatements, deliverTargetStatements, TargetPermissionError };
