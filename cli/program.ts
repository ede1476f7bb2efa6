/**
 * The command line: commander definitions only. Each action lazy-loads the module that does the
 * work (a plain function also called by tests), so `dashcam ls` never loads dockerode or blessed.
 */
import { Command, Option } from 'commander';
import { DEFAULT_STORE } from '../recorder/record-options.js';
import { VERSION } from '../recorder/version.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const storeOption = (): Option => new Option('--store <dir>', 'store directory').env('DASHCAM_STORE').default(DEFAULT_STORE);
const formatOption = (): Option => new Option('--format <fmt>', 'output format').choices(['text', 'json']).default('text');

export function buildProgram(): Command {
  const program = new Command('dashcam')
    .description('A forensic recorder and incident replay for Docker containers')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError(false);

  program.command('record')
    .description('record the Docker engine (and kernel activity) into the rolling store')
    .addOption(storeOption())
    .option('--sources <list>', 'comma-separated sources: docker,ebpf,procfs, or auto', 'auto')
    .option('--stats-interval <duration>', 'resource stats interval (0 disables)', '10s')
    .option('--max-log-line <bytes>', 'cut log lines longer than this', String(256 * 1024))
    .option('--flush <duration>', 'longest time an event waits before it is written', '100ms')
    .option('--poll <duration>', 'procfs polling interval', '2s')
    .option('--host', 'also record host (non-container) processes', false)
    .option('--socket-group <gid>', 'group allowed to query the recorder socket')
    .option('-v, --verbose', 'log debug lines', false)
    .action(async (o) => (await import('./run-record.js')).runRecord(o));

  program.command('ls')
    .description('list containers known to the store')
    .addOption(storeOption())
    .option('-a, --all', 'include exited and removed containers', false)
    .addOption(formatOption())
    .action(async (o) => (await import('../replay/ls-command.js')).lsCommand(o, process.stdout));

  program.command('replay')
    .description("replay a container's recorded window (TUI on a terminal, else text or JSON Lines)")
    .addOption(storeOption())
    .option('-c, --container <id|prefix|name>', 'container to replay (repeatable)', collect, [])
    .option('--since <time>', 'start of the window: RFC 3339, -10m, or epoch seconds')
    .option('--until <time>', 'end of the window')
    .addOption(new Option('--format <fmt>', 'output format (default: TUI on a terminal, else text)').choices(['text', 'json']))
    .action(async (o) => {
      if (o.container.length === 0) throw Object.assign(new Error('replay needs --container (or --bundle / --incident)'), { code: 'USAGE' });
      await (await import('../replay/replay-command.js')).replayCommand({ ...o, format: o.format ?? 'text' }, process.stdout);
    });

  return program;
}
