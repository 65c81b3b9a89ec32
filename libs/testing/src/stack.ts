import { Supervisor } from '@latchkey/supervisor';
import type { SupervisorOptions } from '@latchkey/supervisor';

export { ALL_SERVICES, replicaName } from '@latchkey/supervisor';
export type StackOptions = SupervisorOptions;

/**
 * `npm start`'s supervisor, keeping every output line of every process for the tests to read
 * (`lines`, in order; an index into it marks a moment) and to show when something fails.
 */
export class Stack extends Supervisor {
  readonly lines: Array<{ service: string; line: string }> = [];

  protected override received(service: string, line: string): void {
    this.lines.push({ service, line });
  }

  /** Everything a process (or every process) printed. */
  override output(name?: string): string {
    return this.lines
      .filter((l) => !name || l.service === name)
      .map((l) => l.line)
      .join('\n');
  }
}
