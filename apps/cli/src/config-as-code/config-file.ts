import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigFile } from '@latchkey/contracts';
import { CliError } from '../exit-codes';

/** A rule the file breaks, where it breaks it (1-based line and column of the offending key). */
export interface FileIssue {
  file: string;
  line: number;
  column: number;
  field: string;
  rule: string;
}

/** A config file that is not valid: every issue, each with its line. */
export class ConfigFileError extends CliError {
  constructor(readonly issues: FileIssue[]) {
    super(
      `${issues.length === 1 ? 'the file is' : `the file has ${issues.length} problems and is`} not valid; nothing was changed:\n${issues.map(formatIssue).join('\n')}`,
      undefined,
      { issues },
    );
  }
}

export const formatIssue = (i: FileIssue): string => `  ${i.file}:${i.line}:${i.column}: ${i.field}: ${i.rule}`;

/** A parsed, valid file, and the way back from a field's path to its place in the file. */
export interface LoadedFile {
  file: string;
  config: ConfigFile;
  /** The place of a field (its key) in the file; the nearest enclosing field when it is absent. */
  at(path: readonly (string | number)[], rule: string): FileIssue;
}

export function loadConfigFile(file: string): LoadedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseConfigFile(file, text);
}

/** YAML (or JSON, which is YAML) checked against the contracts' schema of the file. */
export function parseConfigFile(file: string, text: string): LoadedFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        return { file, line: pos.line, column: pos.col, field: '(syntax)', rule: e.message.split('\n')[0] };
      }),
    );
  }
  const at = (path: readonly (string | number)[], rule: string): FileIssue => {
    const offset = offsetOf(doc, path);
    const pos = lines.linePos(offset);
    return { file, line: pos.line, column: pos.col, field: path.map(String).join('.') || '(file)', rule };
  };
  const parsed = ConfigFile.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => at([...(issue.path as (string | number)[]), key], 'is not a known field'))
        : [at(issue.path as (string | number)[], issue.message)],
    );
    throw new ConfigFileError(sortIssues(issues));
  }
  return { file, config: parsed.data, at };
}

export const sortIssues = (issues: FileIssue[]): FileIssue[] => [...issues].sort((a, b) => a.line - b.line || a.column - b.column);

/** Where a path's key starts in the text; for a path that is not there, where its nearest parent is. */
function offsetOf(doc: Document, path: readonly (string | number)[]): number {
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}
