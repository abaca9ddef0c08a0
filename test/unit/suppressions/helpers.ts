import { compileRoutesConfig, type RouterConfig } from '../../../shared/config/compile.ts';
import { parseYamlSource } from '../../../shared/config/yaml-source.ts';
import type { ActionActor } from '../../../shared/actions/model.ts';

/** Routes with one chat-like target and one audit target: a suppressed finding reaches only the audit one. */
const ROUTES_YAML = `targets:
  chat: { type: console }
  siem: { type: file, path: out/suppressions-test.ndjson, audit: true }
default: { targets: [chat, siem] }
`;

const routesConfig = (yaml: string = ROUTES_YAML, file = 'routes.yml'): RouterConfig => compileRoutesConfig(parseYamlSource(yaml, file));

const ANALYST: ActionActor = { platform: 'slack', id: 'U123ABC', name: 'Ada' };
const NOW = Date.parse('2026-12-05T08:00:00.000Z');
const DAY = 86_400_000;

export { ROUTES_YAML, routesConfig, ANALYST, NOW, DAY };
