import { fileURLToPath } from 'node:url';

/** Files bundled with the project, found from this module so the CLI works from any folder. */
const projectFile = (relativePath: string): string => fileURLToPath(new URL(`../../${relativePath}`, import.meta.url));

const BUNDLED = {
  samples: () => projectFile('test/events/samples'),
  routes: () => projectFile('routes.example.yml'),
  accounts: () => projectFile('accounts.example.yml'),
};

export { BUNDLED, projectFile };
