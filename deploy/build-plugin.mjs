// osls plugin (serverless.yml `plugins: [./deploy/build-plugin.mjs]`): `osls package` and `osls deploy`
// build, validate and bundle the working tree before zipping it, so what ships is always what the
// checkout says. The stage names its config: --param routes=<file> (required) and --param
// accounts=<file> (optional), or `params:` per stage in serverless.yml. Packaging prints both files
// with their sha256 and gives the deliver role exactly the permissions its targets need.
// Only node builtins are imported statically: osls require()s this file, and the build (esbuild,
// TypeScript sources) loads when a hook runs.

const PLUGIN_SETTINGS = 'findingsRouter';

class FindingsRouterBuild {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options;
    this.log = log ?? { notice: (line) => console.log(line) };
    this.hooks = {
      // Before the artifacts are zipped (package, deploy, and `deploy function` via package:function).
      'before:package:createDeploymentArtifacts': () => this.buildAndGrant(),
      'before:package:function:package': () => this.buildAndGrant(),
    };
  }

  settings() {
    return this.serverless.service.custom?.[PLUGIN_SETTINGS] ?? {};
  }

  async buildAndGrant() {
    const { BuildError, SKIP_BUDGET_ENV, buildBundles, chooseConfigFiles } = await import('../scripts/build.mjs');
    const { TargetPermissionError, addDeliverStatements, deliverTargetStatements } = await import('./target-statements.ts');
    const { routes, accounts } = this.settings();
    const fail = (error) => {
      if (error instanceof BuildError || error instanceof TargetPermissionError) throw new this.serverless.classes.Error(`findings-router build: ${error.message}`, 'FINDINGS_ROUTER_BUILD');
      throw error;
    };
    let config;
    try {
      const files = chooseConfigFiles({ routes, accounts, routesHint: 'pass --param routes=<routes.yml> or set params.<stage>.routes in serverless.yml (the examples: --param routes=routes.example.yml)' });
      config = await buildBundles({
        ...files,
        checkBudget: process.env[SKIP_BUDGET_ENV] !== '1',
        log: (line) => this.log.notice(`findings-router ${line}`),
      });
    } catch (error) {
      fail(error);
    }
    let statements;
    try {
      statements = deliverTargetStatements(config.routes.checked);
      addDeliverStatements(this.serverless.service.resources, statements);
    } catch (error) {
      fail(error);
    }
    this.log.notice(`findings-router deliver role: ${statements.length} target statement(s) from ${config.routes.shown}`);
  }
}

export default FindingsRouterBuild;
