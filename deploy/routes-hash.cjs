'use strict';
// `sha256:<hex>` of the stage's routes file (the prefix also says it is a hash, not an opaque secret), for serverless.yml (${file(./deploy/routes-hash.cjs):routes}): the
// route function's ROUTES_HASH (the hash on its log lines) and the stack output BundledRoutesHash that
// `findings-router config status` compares. Same bytes, same hash as the build prints (scripts/build.mjs);
// relative paths are the repository's, as the build resolves them. CommonJS because osls only resolves .js/.cjs.
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

const routes = async ({ resolveVariable }) => {
  const file = await resolveVariable("param:routes, ''");
  // No routes file: the build plugin refuses the package with its own one-line message; nothing to hash.
  if (!file) return 'none';
  try {
    return `sha256:${createHash('sha256').update(readFileSync(resolve(__dirname, '..', file))).digest('hex')}`;
  } catch {
    return 'none'; // unreadable: the build plugin names the file in its refusal
  }
};

module.exports = { routes };
