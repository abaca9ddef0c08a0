import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/cli/config/parse.ts';
import { ROUTES_CONFIG } from '../../../shared/config/routes-config.ts';

/** `config check` warns for every inline `{ value }` secret, at its own line, however deep it sits. */
describe('Config: inline secret warnings', () => {
  it('warns for each nested inline secret (elasticsearch basic.username and basic.password) at its location', () => {
    // Prepare
    const text = [
      'targets:',
      '  es:',
      '    type: elasticsearch',
      '    url: https://search.example.com',
      '    basic:',
      "      username: { value: 'elastic' }",
      "      password: { value: 'es-inline-password-1' }",
      'default:',
      '  targets: [es]',
      '',
    ].join('\n');

    // Act
    const config = parseConfig(ROUTES_CONFIG, text, 'r.yml');

    // Assess
    expect(config.warnings.map((w) => [w.line, w.message])).toEqual([
      [6, "target 'es': basic.username is an inline secret value; use { env }, { ssm } or { secretsManager } outside local tests"],
      [7, "target 'es': basic.password is an inline secret value; use { env }, { ssm } or { secretsManager } outside local tests"],
    ]);
    expect(JSON.stringify(config.warnings)).not.toContain('es-inline-password-1');
  });

  it('warns for top-level and nested inline secrets of one target, none for references', () => {
    // Prepare
    const text = [
      'targets:',
      '  jira:',
      '    type: jira',
      '    url: https://example.atlassian.net',
      '    project: SEC',
      '    email: { env: JIRA_EMAIL }',
      "    apiToken: { value: 'inline-token-123' }",
      'default:',
      '  targets: [jira]',
      '',
    ].join('\n');

    // Act
    const config = parseConfig(ROUTES_CONFIG, text, 'r.yml');

    // Assess
    expect(config.warnings.map((w) => `${w.line}:${w.column}`)).toEqual(['7:15']);
    expect(config.warnings[0]?.message).toContain('apiToken is an inline secret value');
  });
});
