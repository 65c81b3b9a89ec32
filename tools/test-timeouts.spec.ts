// Timeouts that hold on a loaded 2-core machine. jest's default of 5 s failed a suite starting
// three PostgreSQL clusters in beforeAll; each jest project now has a generous default for tests
// and hooks (jest.config.js), no suite lowers it, and every hook that starts real infrastructure
// says so with STARTUP_TIMEOUT_MS. Spec files are read with TypeScript's own parser.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript-classic';
import { STARTUP_TIMEOUT_MS } from '@latchkey/testing';

const root = join(__dirname, '..');
type ProjectName = 'unit' | 'int' | 'e2e';
interface Project {
  displayName: ProjectName;
  globals: { LATCHKEY_TEST_TIMEOUT_MS: number };
  setupFilesAfterEnv: string[];
}
const config = require(join(root, 'jest.config.js')) as { projects: Project[] };
const projectTimeout = (name: ProjectName) => config.projects.find((p) => p.displayName === name)!.globals.LATCHKEY_TEST_TIMEOUT_MS;

const JEST_CALLS = new Set(['it', 'test', 'beforeAll', 'beforeEach', 'afterAll', 'afterEach']);
const HOOKS = new Set(['beforeAll', 'beforeEach']);
const STARTS_INFRASTRUCTURE = /\bstart(PgCluster|TestStack|NatsServer|NatsCluster|RedisServer|Replicas)\(/;

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return specFiles(path);
    return /\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name) ? [path] : [];
  });
}

const projectOf = (file: string): ProjectName => (file.endsWith('.e2e-spec.ts') ? 'e2e' : file.endsWith('.int-spec.ts') ? 'int' : 'unit');

/** The jest calls of a file whose timeout is lower than the project's, or missing where infrastructure starts. */
function problems(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const floor = projectTimeout(projectOf(file));
  const found: string[] = [];
  const where = (node: ts.Node) => `${relative(root, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const value = (node: ts.Expression | undefined): number | 'startup' | null => {
    if (!node) return null;
    if (ts.isNumericLiteral(node)) return Number(node.text.replace(/_/g, ''));
    if (ts.isIdentifier(node) && node.text === 'STARTUP_TIMEOUT_MS') return 'startup';
    return null;
  };
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isPropertyAccessExpression(callee) && callee.expression.getText() === 'jest' && callee.name.text === 'setTimeout') {
        const ms = value(node.arguments[0]);
        if (typeof ms === 'number' && ms < floor) found.push(`${where(node)} jest.setTimeout(${ms}) lowers the ${projectOf(file)} default of ${floor} ms`);
      }
      const name = ts.isIdentifier(callee) ? callee.text : null;
      if (name && JEST_CALLS.has(name)) {
        const body = node.arguments.find((a) => ts.isArrowFunction(a) || ts.isFunctionExpression(a));
        const last =
          node.arguments.length > 1 || (body && node.arguments[node.arguments.length - 1] !== body) ? node.arguments[node.arguments.length - 1] : undefined;
        const ms = last === body ? null : value(last);
        if (typeof ms === 'number' && ms < floor) found.push(`${where(node)} ${name}(..., ${ms}) lowers the ${projectOf(file)} default of ${floor} ms`);
        if (HOOKS.has(name) && body && STARTS_INFRASTRUCTURE.test(body.getText()) && ms !== 'startup') {
          found.push(`${where(node)} ${name} starts infrastructure without STARTUP_TIMEOUT_MS`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('test timeouts', () => {
  it('gives every jest project a generous default for tests and hooks', () => {
    expect(config.projects.map((p) => p.displayName).sort()).toEqual(['e2e', 'int', 'unit']);
    for (const project of config.projects) expect(project.setupFilesAfterEnv).toContain('<rootDir>/tools/jest/project-timeout.js');
    expect(projectTimeout('unit')).toBeGreaterThanOrEqual(30_000);
    expect(projectTimeout('int')).toBeGreaterThanOrEqual(120_000);
    expect(projectTimeout('e2e')).toBeGreaterThanOrEqual(300_000);
    expect(STARTUP_TIMEOUT_MS).toBeGreaterThanOrEqual(projectTimeout('int'));
  });

  it('applies the project default (this unit test runs under it)', () => {
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('TEST_TIMEOUT_SYMBOL')]).toBe(projectTimeout('unit'));
  });

  it('lets no suite lower its default, and marks every hook that starts infrastructure', () => {
    const files = specFiles(root);
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap(problems)).toEqual([]);
  });
});
