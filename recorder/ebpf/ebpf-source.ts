/** eBPF capture through bpftrace. (Being written: until then it reports itself unavailable.) */
import type { CaptureSource, ContainerDirectory, Sink, SourceHealth } from '../source.js';
import type { Logger } from '../logger.js';

export interface EbpfSourceOptions { directory: ContainerDirectory; log: Logger; host: boolean }

export class EbpfSource implements CaptureSource {
  readonly name = 'ebpf' as const;
  static async available(): Promise<{ ok: boolean; why: string }> {
    return { ok: false, why: 'the eBPF source is not built into this version' };
  }
  constructor(readonly opts: EbpfSourceOptions) {}
  async start(_sink: Sink): Promise<void> { throw new Error('eBPF source unavailable'); }
  async stop(): Promise<void> {}
  health(): SourceHealth { return { source: 'ebpf', state: 'stopped', events: 0, lost: 0 }; }
}
