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
  // NestJS 12 ships ES modules only; Node >= 20.19 loads them through require(esm), jest's own
  // module system does not (before Node 24.9), so jest compiles them to CommonJS too.
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    { ...shared, displayName: 'int', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int-spec.ts'], slowTestThreshold: 30 },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.e2e-spec.ts'], slowTestThreshold: 60 },
  ],
};
