/**
 * faultline's layering (docs/ARCHITECTURE.md "Layers and the dependency rule"), checked by
 * harness/architecture.test.ts on every `npm test`. Paths are relative to the repository root.
 */
const PROD = '^harness/';
const TEST_FILES = '(\\.test\\.ts$|/testdata/)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'No import cycles, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-test-helpers-in-production',
      comment: 'Production code never imports test helpers, benchmarks or vitest (but faultline/vitest, the vitest integration).',
      severity: 'error',
      from: { path: PROD, pathNot: [TEST_FILES, '^harness/api/vitest\\.ts$'] },
      to: { path: ['^testing/', '^bench/', '(^|/)node_modules/vitest/', '(^|/)node_modules/@vitest/'] },
    },
    {
      name: 'model-is-a-leaf',
      comment: 'model/ (shared data types) imports nothing else of the harness.',
      severity: 'error',
      from: { path: '^harness/model/', pathNot: TEST_FILES },
      to: { path: PROD, pathNot: '^harness/model/' },
    },
    {
      name: 'schema-is-a-leaf',
      comment: 'schema/ (the schema language and YAML with positions) imports nothing else of the harness.',
      severity: 'error',
      from: { path: '^harness/schema/', pathNot: TEST_FILES },
      to: { path: PROD, pathNot: '^harness/schema/' },
    },
    {
      name: 'backend-contract-is-low',
      comment: 'The backend contract sits below runtimes, agents, faults, observations and the runner.',
      severity: 'error',
      from: { path: '^harness/backends/types\\.ts$' },
      to: { path: '^harness/(runtime|agent|cluster|context|faults|assertions|observe|boot|churn|runner|scenario|reporters|cli)/' },
    },
    {
      name: 'only-registries-know-concrete-backends',
      comment: 'Concrete backends (backends/<name>/) are known to the backend registry and the CLI only.',
      severity: 'error',
      from: { path: PROD, pathNot: ['^harness/backends/', '^harness/cli/', TEST_FILES] },
      to: { path: '^harness/backends/[^/]+/' },
    },
    {
      name: 'only-registries-know-concrete-runtimes',
      comment: 'The model runtime (runtime/model/) is known to the runtime registry only.',
      severity: 'error',
      from: { path: PROD, pathNot: ['^harness/runtime/model/', '^harness/runtime/index\\.ts$', TEST_FILES] },
      to: { path: '^harness/runtime/model/' },
    },
    {
      name: 'checks-use-interfaces',
      comment: 'Faults, observations, assertions and boot use the agent and runtime contracts, not implementations.',
      severity: 'error',
      from: { path: '^harness/(faults|assertions|observe|boot|churn)/', pathNot: TEST_FILES },
      to: { path: ['^harness/agent/node-agent\\.ts$', '^harness/runtime/index\\.ts$', '^harness/runner/'] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
  },
};
