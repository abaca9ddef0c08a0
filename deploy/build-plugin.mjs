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
    // The build imports TypeScript sources directly (Node 24 strips types); an older node would fail with a stack.
    const major = Number(process.versions.node.split('.')[0]);
    if (major < 24) {
      throw new this.serverless.classes.Error(`findings-router build: needs Node 24 or later, this is ${process.version} (npx osls runs the pinned one)`, 'FINDINGS_ROUTER_NODE');
    }
    const { BuildError, SKIP_BUDGET_ENV, buildBundles, chooseConfigFiles } = await import('../scripts/build.mjs');
    const { TargetPermissionError, addDeliverStatements, deliverTargetStatements } = await import('./target-statements.ts');
    const { routes, accounts } = this.settings();
    try {
      const files = chooseConfigFiles({ routes, accounts, routesHint: 'pass --param routes=<routes.yml> or set params.<stage>.routes in serverless.yml (the examples: --param routes=routes.example.yml)' });
      const config = await buildBundles({ ...files, checkBudget: process.env[SKIP_BUDGET_ENV] !== '1', log: (line) => this.log.notice(`findings-router ${line}`) });
      const statements = deliverTargetStatements(config.routes.checked);
      addDeliverStatements(this.serverless.service.resources, statements);
      this.log.notice(`findings-router deliver role: ${statements.length} target statement(s) from ${config.routes.shown}`);
    } catch (error) {
      // A refusal or an invalid file is the user's to fix: one message, no stack.
      if (error instanceof BuildError || error instanceof TargetPermissionError) throw new this.serverless.classes.Error(`findings-router build: ${error.message}`, 'FINDINGS_ROUTER_BUILD');
      throw error;
    }
  }
}

export default FindingsRouterBuild;
