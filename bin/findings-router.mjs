#!/usr/bin/env node
// Runs the TypeScript CLI directly: Node 24 strips types natively (no build step).
await import('../shared/cli/main.ts');
