import { RE2JS } from 're2js';
import { useRegexEngine } from '../../routing/user-regex.ts';
import type { ConfigKind } from '../../config/load.ts';
import { parseYamlSource } from '../../config/yaml-source.ts';

// Only the CLI, the build and tests parse text synchronously: none of them counts cold-start
// bytes, so the regex engine is registered up front (loadConfig loads it on demand).
useRegexEngine(RE2JS);

/**
 * loadConfig for YAML text already in memory, synchronously (tests, the build): the same
 * parser, compiler and `file:line:column` errors.
 */
const parseConfig = <T>(kind: ConfigKind<T>, text: string, file: string): T => kind.compile(parseYamlSource(text, file));

export { parseConfig };
