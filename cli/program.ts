/**
 * The command line: commander definitions only. Each action lazy-loads the module that does the
 * work (a plain function also called by tests), so `dashcam ls` never loads dockerode or blessed.
 */
import { Command, Option } from 'commander';
import { DEFAULT_STORE } from '../recorder/record-options.js';
import { VERSION } from '../recorder/version.js';
import { TIME_FORMS } from '../formats/time.js';

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
    .option('--sensitive <globs>', 'comma-separated paths whose reads are recorded (eBPF; replaces the built-in list)')
    .option('--socket-group <gid>', 'group allowed to query the recorder socket')
    .option('--retain <duration>', 'keep events this long (default 24h)')
    .option('--max-size <size>', 'keep the store at or under this size on disk (default 2GiB)')
    .option('--pin-retain <duration>', 'keep incident windows this long (default 30d)')
    .option('--pin-max <size>', 'cap on pinned bytes; the oldest pins go first (default half of --max-size)')
    .option('--import-max <size>', 'cap on imported bytes kept out of retention; the oldest imports go first (default a quarter of --max-size)')
    .option('--retention-interval <duration>', 'how often a retention pass runs (default 1m)')
    .option('--rules <file>', 'JSON file tuning incident triggers and rules')
    .option('--falco-listen <host:port>', 'accept Falco http_output alerts on POST / (port alone: 127.0.0.1)')
    .addOption(new Option('--falco-token <token>', 'bearer token the Falco listener requires').env('DASHCAM_FALCO_TOKEN'))
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
    .option('--since <time>', `start of the window: ${TIME_FORMS}`)
    .option('--until <time>', 'end of the window')
    .addOption(new Option('--format <fmt>', 'output format (default: TUI on a terminal, else text)').choices(['text', 'json']))
    .option('--at <time>', 'the reconstructed state at this time (one JSON document with --format json)')
    .option('--incident <id>', "open an incident's container and pinned window")
    .option('--follow', 'start at the live edge and keep showing new events (TUI); with --format, stream them like tail -f until Ctrl-C', false)
    .option('--with-peers', 'also the containers in the story: sharing its network namespace or pod, or talked with in the window', false)
    .option('--no-fold', 'show health-check probe events instead of folding them')
    .option('--bundle <file>', 'replay a bundle file instead of a store (default: all its containers)')
    .option('--force', 'open a bundle even if it fails verification (prints a warning)', false)
    .action(async (o) => {
      if (o.bundle !== undefined) {
        const tui = o.format === undefined && process.stdout.isTTY;
        let warning: string | undefined;
        const b = await (await import('../replay/bundle-kv.js')).openBundleKV(o.bundle, { force: o.force, warn: (l: string) => { warning = l; process.stderr.write(`${l}\n`); } });
        const container = o.container.length ? o.container : b.containers;
        const own = b.manifest.filters?.incident;
        if (tui) return (await import('../tui/open-tui.js')).openTui({ ...o, container, focus: typeof own === 'string' ? { incident: own } : {} }, b.kv, warning);
        if (o.at !== undefined) return (await import('../replay/at-command.js')).atCommand({ ...o, container, format: o.format ?? 'text' }, process.stdout, b.kv);
        return void (await (await import('../replay/replay-command.js')).replayCommand({ ...o, container, format: o.format ?? 'text' }, process.stdout, b.kv));
      }
      if (o.container.length === 0 && o.incident === undefined) throw Object.assign(new Error('replay needs --container (or --bundle / --incident)'), { code: 'USAGE' });
      if (o.format === undefined && process.stdout.isTTY) return (await import('../tui/open-tui.js')).openTui(o);
      if (o.at !== undefined) return (await import('../replay/at-command.js')).atCommand({ ...o, format: o.format ?? 'text' }, process.stdout);
      await (await import('../replay/replay-command.js')).replayCommand({ ...o, format: o.format ?? 'text' }, process.stdout);
    });

  program.command('incidents')
    .description('list incidents (crashes, rule hits, marks, Falco alerts) and their pinned windows')
    .addOption(storeOption())
    .option('-c, --container <id|prefix|name>', 'only this container')
    .option('--since <time>', 'only incidents whose window ends after this time')
    .addOption(formatOption())
    .action(async (o) => void (await (await import('../replay/incidents-command.js')).incidentsCommand(o, process.stdout)));

  program.command('mark')
    .description('mark an incident by hand on a container, pinning the window around now')
    .addOption(storeOption())
    .requiredOption('-c, --container <id|prefix|name>', 'container to mark')
    .option('--note <text>', 'what you saw')
    .option('--before <duration>', 'window before now (default 5m)')
    .option('--after <duration>', 'window after now (default 2m)')
    .addOption(formatOption())
    .action(async (o) => {
      const local = async (store: string, a: { container: string }) => (await import('../recorder/incidents/manual-mark.js')).markOffline(store, a);
      await (await import('../replay/mark-command.js')).markCommand(o, process.stdout, local);
    });

  program.command('gc')
    .description('run a retention pass now (through the recorder when it holds the store)')
    .addOption(storeOption())
    .addOption(formatOption())
    .action(async (o) => {
      const local = async (store: string) => (await import('../recorder/retention-local.js')).gcLocal(store);
      await (await import('../replay/gc-command.js')).gcCommand(o, process.stdout, local);
    });

  program.command('status')
    .description("the recorder's sources and health, events/s, loss, store size, horizon and pins")
    .addOption(storeOption())
    .addOption(formatOption())
    .action(async (o) => {
      const local = async (store: string) => (await import('../recorder/retention-local.js')).statusLocal(store);
      await (await import('../replay/status-command.js')).statusCommand(o, process.stdout, local);
    });

  program.command('export')
    .description('write a container\'s (or an incident\'s) window to a verifiable bundle file')
    .addOption(storeOption())
    .option('-c, --container <id|prefix|name>', 'container to export (repeatable)', collect, [])
    .option('--incident <id>', "export an incident's container and pinned window")
    .option('--since <time>', `start of the window: ${TIME_FORMS}`)
    .option('--until <time>', 'end of the window')
    .option('--around <time>', 'center the window on this time (with --before/--after)')
    .option('--before <duration>', 'window before --around (default 5m)')
    .option('--after <duration>', 'window after --around (default 2m)')
    .option('-o, --output <file>', 'output file (default: dashcam-<name>-<time>.dcb in the current directory)')
    .addOption(new Option('--redact <profile>', 'redaction profile').choices(['default', 'strict']).default('default'))
    .option('--sign <keyfile>', 'sign the manifest with this Ed25519 private key (dashcam keygen)')
    .addOption(new Option('--format <fmt>', 'bundle, or plain JSON Lines').choices(['bundle', 'jsonl']).default('bundle'))
    .action(async (o) => void (await (await import('../replay/export-command.js')).exportBundle(o, process.stdout)));

  program.command('verify')
    .description('check a bundle: every part against the manifest, and the signature')
    .argument('<file>', 'bundle file')
    .option('--key <pubfile>', 'require a signature by this public key')
    .action(async (file: string, o) => void (await (await import('../replay/verify-command.js')).verifyCommand({ file, key: o.key }, process.stdout)));

  program.command('import')
    .description('merge a bundle into a store (importing twice adds nothing)')
    .argument('<file>', 'bundle file')
    .addOption(storeOption())
    .option('--retain <duration>', 'let retention delete the imported events after this long (default: never; they are evidence)')
    .action(async (file: string, o) => {
      const retain = o.retain === undefined ? undefined : (await import('../formats/units.js')).parseDurationMicros(o.retain);
      await (await import('../replay/import-command.js')).importCommand({ file, store: o.store, ...(retain !== undefined ? { retain } : {}) }, process.stdout);
    });

  program.command('keygen')
    .description('make an Ed25519 key pair for signing bundles: PREFIX.key (private) and PREFIX.pub')
    .option('-o, --output <prefix>', 'file name prefix', 'dashcam')
    .action(async (o) => void (await (await import('../replay/keygen-command.js')).keygenCommand({ output: o.output }, process.stdout)));

  program.command('repair')
    .description('salvage a damaged store (LevelDB repair); stop the recorder first')
    .addOption(storeOption())
    .action(async (o) => (await import('../recorder/repair-command.js')).repairCommand(o, process.stdout));

  return program;
}
