/**
 * Test files named `zz-*` stop the shared test engine (issue 8's engine outage): they run after
 * every other file, whatever order vitest's cache would pick.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LAST = /[\\/]zz-[^\\/]*$/;

export class RunLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return [...sorted.filter((f) => !LAST.test(f.moduleId)), ...sorted.filter((f) => LAST.test(f.moduleId))];
  }
}
