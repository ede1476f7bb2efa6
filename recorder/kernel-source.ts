/**
 * Picks the kernel-level source and says in one line which and why: eBPF when asked for (or, on
 * 'auto', when it can start), else the /proc poller. `--sources docker` alone turns both off.
 */
import type { CaptureSource, ContainerDirectory, Sink } from './source.js';
import type { Logger } from './logger.js';
import type { RecordOptions } from './record-options.js';
import { ProcfsSource } from './procfs/procfs-source.js';

export async function chooseKernelSource(opts: RecordOptions, dir: ContainerDirectory, log: Logger): Promise<CaptureSource | undefined> {
  const auto = opts.sources === 'auto';
  const wantEbpf = auto || (opts.sources as string[]).includes('ebpf');
  const wantProcfs = auto || (opts.sources as string[]).includes('procfs');
  if (wantEbpf) {
    const { EbpfSource } = await import('./ebpf/ebpf-source.js');
    const check = await EbpfSource.available();
    if (check.ok) {
      log.info(`kernel-level capture: eBPF (bpftrace)${auto ? ', chosen automatically' : ''}`);
      return new EbpfSource({ directory: dir, log, host: opts.host, ...(opts.sensitive ? { sensitive: opts.sensitive } : {}), ...(opts.bpftrace ? { bpftrace: opts.bpftrace } : {}) });
    }
    if (!wantProcfs) throw Object.assign(new Error(`eBPF capture cannot start: ${check.why}`), { code: 'SOURCE_UNAVAILABLE' });
    log.warn(`kernel-level capture: /proc polling, because eBPF cannot start: ${check.why}`);
  } else if (wantProcfs) {
    log.info('kernel-level capture: /proc polling (asked for); short-lived processes are not seen');
  }
  if (wantProcfs) return new ProcfsSource(dir, { pollMs: opts.pollMs, log });
  log.info('kernel-level capture: off (docker source only)');
  return undefined;
}

/**
 * Starts the chosen kernel-level source. On 'auto', eBPF that passed the checks but fails to start
 * (bpftrace dies at once, cannot attach) falls back to /proc polling, said in one line; when eBPF
 * was asked for by name, the failure stands.
 */
export async function startKernelSource(source: CaptureSource, opts: RecordOptions, dir: ContainerDirectory, sink: Sink, log: Logger): Promise<CaptureSource> {
  try {
    await source.start(sink);
    return source;
  } catch (err) {
    if (source.name !== 'ebpf' || opts.sources !== 'auto') throw err;
    log.warn(`kernel-level capture: /proc polling, because eBPF failed to start: ${(err as Error).message.replace(/^eBPF capture cannot start: /, '')}`);
    const procfs = new ProcfsSource(dir, { pollMs: opts.pollMs, log });
    await procfs.start(sink);
    return procfs;
  }
}
