/**
 * The bundle's container: a plain POSIX ustar archive of flat, regular files, so `tar -tf` lists
 * a bundle and `tar -xf` opens it. We write and read it ourselves (about a hundred lines) rather
 * than take a tar dependency: we need only flat regular files, and the reader must be strict in
 * ways general tar libraries are not (no links, no directories, no paths, no pax extensions).
 *
 * The reader never touches the disk: it slices parts out of the archive bytes, so a hostile
 * archive (`../`, absolute paths, symlinks) can be refused but can never write anywhere.
 */
import { FormatError } from './errors.js';

export interface TarPart { name: string; data: Uint8Array }

const BLOCK = 512;
/** Part names: one flat file name, no directories, no dot-dot, nothing a shell would mangle. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function octal(buf: Buffer, at: number, width: number, n: number): void {
  buf.write(n.toString(8).padStart(width - 1, '0') + '\0', at, width, 'ascii');
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0' + '00', 257, 8, 'ascii');
  h.write('dashcam', 265, 32, 'ascii');
  h.write('dashcam', 297, 32, 'ascii');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/** The archive as a list of buffers (header, data, padding, ..., end blocks), ready for writev. */
export function tarChunks(parts: readonly TarPart[], mtimeSec = Math.floor(Date.now() / 1000)): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (!SAFE_NAME.test(p.name)) throw new FormatError('BAD_ARGUMENT', `bad bundle part name ${JSON.stringify(p.name)}`);
    out.push(header(p.name, p.data.length, mtimeSec));
    out.push(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength));
    const pad = (BLOCK - (p.data.length % BLOCK)) % BLOCK;
    if (pad) out.push(Buffer.alloc(pad));
  }
  out.push(Buffer.alloc(2 * BLOCK));
  return out;
}

const corrupt = (msg: string): FormatError => new FormatError('BUNDLE_CORRUPT', msg);

function field(h: Buffer, at: number, width: number): string {
  const end = h.indexOf(0, at);
  return h.toString('utf8', at, end === -1 || end > at + width ? at + width : end);
}

function parseOctal(h: Buffer, at: number, width: number, what: string): number {
  const s = field(h, at, width).trim();
  if (!/^[0-7]{1,12}$/.test(s)) throw corrupt(`not a dashcam bundle: bad ${what} field in a tar header`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = field(h, 148, 8).trim();
  if (!/^[0-7]{1,8}$/.test(stored)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === parseInt(stored, 8);
}

const TYPE_NAMES: Record<string, string> = { '1': 'hard link', '2': 'symbolic link', '3': 'device', '4': 'device', '5': 'directory', '6': 'FIFO', x: 'pax header', g: 'pax header', L: 'GNU long name', K: 'GNU long link' };

/**
 * Reads every entry of an archive held in memory. Refuses anything but flat regular files with
 * safe names, and any archive that is empty, truncated, or not ustar. Parts are views into `buf`.
 */
export function readTar(buf: Buffer): Map<string, Buffer> {
  if (buf.length === 0) throw corrupt('empty file: not a dashcam bundle');
  if (buf.length < BLOCK) throw corrupt(`not a dashcam bundle: ${buf.length} bytes is shorter than one tar header (truncated?)`);
  const parts = new Map<string, Buffer>();
  let off = 0;
  for (;;) {
    if (off + BLOCK > buf.length) throw corrupt('truncated bundle: the tar archive ends without its end-of-archive marker');
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) {
      if (parts.size === 0) throw corrupt('not a dashcam bundle: the tar archive holds no parts');
      // The writer always ends with two zero blocks; less means the copy was cut short.
      if (off + 2 * BLOCK > buf.length || !buf.subarray(off + BLOCK, off + 2 * BLOCK).every((b) => b === 0)) throw corrupt('truncated bundle: the tar end-of-archive marker is incomplete');
      return parts;
    }
    if (!checksumOk(h)) {
      throw corrupt(off === 0 ? 'not a dashcam bundle (no tar header at the start of the file)' : `corrupt bundle: bad tar header checksum at byte ${off} (truncated or damaged)`);
    }
    if (field(h, 257, 6) !== 'ustar') throw corrupt('not a dashcam bundle: tar archive is not in ustar format');
    const prefix = field(h, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(h, 0, 100);
    const type = String.fromCharCode(h[156]!);
    if (type !== '0' && type !== '\0') {
      throw corrupt(`refusing bundle: entry ${JSON.stringify(name)} is a ${TYPE_NAMES[type] ?? `type-${JSON.stringify(type)} entry`}, not a regular file`);
    }
    if (name.startsWith('/')) throw corrupt(`refusing bundle: entry ${JSON.stringify(name)} has an absolute path`);
    if (name.split('/').includes('..')) throw corrupt(`refusing bundle: entry ${JSON.stringify(name)} climbs out of its directory (..)`);
    if (!SAFE_NAME.test(name)) throw corrupt(`refusing bundle: entry ${JSON.stringify(name)} is not a flat part name`);
    if (parts.has(name)) throw corrupt(`refusing bundle: part ${name} appears twice`);
    const size = parseOctal(h, 124, 12, 'size');
    const start = off + BLOCK;
    if (start + size > buf.length) throw corrupt(`truncated bundle: part ${name} needs ${size} bytes, the file ends after ${buf.length - start}`);
    parts.set(name, buf.subarray(start, start + size));
    off = start + Math.ceil(size / BLOCK) * BLOCK;
  }
}
