import type { TargetDefinition, TargetSpec } from './types.ts';

/**
 * A target's definition: its spec (what config compilation reads) plus the rest. Call it as
 * `/* @__PURE__ *\/ defineTarget(spec, { ... })`: esbuild counts an object spread or an
 * unannotated call as a possible side effect and would keep every definition, with its
 * rendering and sending code, in a bundle that imports only the specs (the route Lambda). The
 * same goes for anything in the second argument esbuild cannot prove pure: write `28_672`, not
 * `28 * 1024` (test/integration/bundles.test.ts fails when route carries rendering code again).
 */
const defineTarget = <C extends { type: string }>(spec: TargetSpec<C>, rest: Omit<TargetDefinition<C>, keyof TargetSpec<C>>): TargetDefinition<C> => ({
  ...spec,
  ...rest,
});

export { defineTarget };
