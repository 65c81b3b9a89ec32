import nx from '@nx/eslint-plugin';
import tsParser from '@typescript-eslint/parser';

// Who may import whom. Contracts depend on nothing but zod; the gateway sees shared libs only
// (never a service's tables or the PostgreSQL engine); connector workers alone touch targets.
const shared = ['scope:contracts', 'scope:shared'];
const depConstraints = (allowTesting) => {
  const testing = allowTesting ? ['scope:testing'] : [];
  return [
    { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: ['scope:contracts'] },
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: [...shared, ...testing] },
    { sourceTag: 'scope:persistence', onlyDependOnLibsWithTags: [...shared, ...testing] },
    { sourceTag: 'scope:engine', onlyDependOnLibsWithTags: [...shared, ...testing] },
    { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: [...shared, 'scope:persistence', 'scope:engine', 'scope:testing'] },
    { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: [...shared, 'scope:persistence', ...testing] },
    { sourceTag: 'scope:service', onlyDependOnLibsWithTags: [...shared, 'scope:persistence', ...testing] },
    { sourceTag: 'scope:connector', onlyDependOnLibsWithTags: [...shared, 'scope:persistence', 'scope:engine', ...testing] },
    // The CLI talks only to the public HTTP API: it may use the contracts (types, and the config file's schema), nothing else.
    { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:contracts', ...testing] },
    { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: [...shared, 'scope:persistence', 'scope:engine', 'scope:testing'] },
    // The browser app: the contracts' zod schemas and nothing of the server (its e2e suite drives the real stack).
    { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:contracts', ...testing] },
  ];
};
const boundaries = (allowTesting) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [...depConstraints(allowTesting), { sourceTag: 'scope:contracts', allowedExternalImports: ['zod'] }],
  },
];
const testFiles = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'];
// SQL text may interpolate only quoteIdent()/quoteLiteral() calls; values are bound.
const sqlRules = [
  {
    selector:
      "CallExpression[callee.property.name='query'] > TemplateLiteral > :not(TemplateElement):not(CallExpression[callee.name=/^quote(Ident|Literal)$/])",
    message: 'Interpolated SQL: bind values, or quote identifiers with quoteIdent() inside the template.',
  },
];
// Where a service may see TypeORM or `pg`: repositories, entities, migrations, modules, main.ts (and tests).
// Services hold logic; the control database sits behind repositories, targets behind libs/pg-access.
const persistenceFiles = ['**/*.repository.ts', '**/*.entity.ts', '**/migrations/**', '**/*.module.ts', '**/main.ts'];
const persistenceMessage =
  'Services see no TypeORM or pg: put the query in a *.repository.ts (control database) or libs/pg-access (TargetDatabase, target databases).';

export default [
  { ignores: ['**/node_modules/**', 'dist/**', '.nx/**', 'coverage/**'] },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts'],
    languageOptions: { parser: tsParser, parserOptions: { ecmaVersion: 2022, sourceType: 'module', ecmaFeatures: { jsx: true } } },
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      'no-console': 'error',
      'no-debugger': 'error',
      'no-restricted-syntax': ['error', ...sqlRules],
    },
  },
  {
    files: ['apps/web/src/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'The web console runs in a browser: no Node modules.' }] }] },
  },
  {
    // `npm start` is production: it supervises with @latchkey/supervisor, never with the test harness.
    files: ['tools/start/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@latchkey/testing',
              message: 'npm start runs production code: the test harness stays out of it (@latchkey/supervisor runs the services).',
            },
          ],
        },
      ],
    },
  },
  {
    // Services hold logic (README "One shape for every service"): the control database is reached
    // through repositories, target databases through libs/pg-access (TargetDatabase).
    files: ['apps/*/src/**/*.ts'],
    // apps/web keeps its own no-restricted-imports (no Node modules), and never reaches a database.
    ignores: ['apps/web/**', ...testFiles, ...persistenceFiles],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'typeorm', message: persistenceMessage },
            { name: 'pg', message: persistenceMessage },
          ],
          patterns: [{ group: ['typeorm/*', 'pg/*'], message: persistenceMessage }],
        },
      ],
      'no-restricted-syntax': ['error', ...sqlRules, { selector: "CallExpression[callee.property.name='query']", message: persistenceMessage }],
    },
  },
  { files: testFiles, rules: { '@nx/enforce-module-boundaries': boundaries(true), 'no-restricted-syntax': 'off' } },
  { files: ['tools/**/*.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/main.ts'], rules: { 'no-console': 'off' } },
];
