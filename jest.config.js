// One jest run, three projects: unit (*.spec.ts, no I/O), int (*.int-spec.ts, real PostgreSQL,
// Redis, NATS), e2e (*.e2e-spec.ts, the whole stack through the gateway).
const swc = JSON.parse(require('node:fs').readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swc.$schema;

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }],
    '/node_modules/@nestjs/.+\\.js$': ['@swc/jest', { ...swc, swcrc: false, jsc: { ...swc.jsc, parser: { syntax: 'ecmascript' } } }],
  },
  moduleNameMapper: { '^@latchkey/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // NestJS 12 ships ES modules only; Node loads them through require(esm), jest's own module
  // system does not, so jest compiles them to CommonJS too.
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
  // Each project's default timeout of tests and hooks (`timeouts` below): jest reads `testTimeout`
  // only at the top level, so a setup file applies the project's own.
  setupFilesAfterEnv: ['<rootDir>/tools/jest/project-timeout.js'],
};
// Generous for a loaded 2-core machine: jest's default of 5 s failed suites that start PostgreSQL
// clusters in beforeAll. A suite may raise them, never lower them (tools/test-timeouts.spec.ts).
const timeouts = { unit: 30_000, int: 180_000, e2e: 300_000 };
const project = (name, extra) => ({ ...shared, displayName: name, globals: { LATCHKEY_TEST_TIMEOUT_MS: timeouts[name] }, ...extra });

module.exports = {
  projects: [
    project('unit', { testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] }),
    project('int', { testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int-spec.ts'], slowTestThreshold: 30 }),
    project('e2e', { testMatch: ['<rootDir>/{apps,libs,tools}/**/*.e2e-spec.ts'], slowTestThreshold: 60 }),
  ],
};
