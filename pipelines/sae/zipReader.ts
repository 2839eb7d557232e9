// A small ZIP reader for untrusted .npz archives, over a file handle: it reads the end records and
// the central directory, then one member at a time with positioned reads, so neither the archive
// nor a member has to fit one read (Node refuses single reads over 2 GiB) and nothing is inflated
// beyond the size the central directory declares.
//
// Supported: members stored (method 0, np.savez) or deflated (method 8, np.savez_compressed);
// ZIP64 extra fields and end records (numpy writes every member with force_zip64, and archives or
// members over 4 GiB need them). Refused with a UserInputError naming the file: encryption, other
// methods, split archives, data before the archive, sizes beyond what deflate can produce, inflated
// output past the declared size, truncation and CRC-32 mismatches.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import { UserInputError } from '../errors.ts';
import { crc32 } from './crc32.ts';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  /** Uncompressed size as the central directory declares it. */
  size: number;
  localHeaderOffset: number;
}

export interface ZipIndex {
  file: string;
  fileSize: number;
  entries: ZipEntry[];
  /** Where the central directory starts: every member's data must end before it. */
  centralDirectoryOffset: number;
}

/**
 * Receives a member's uncompressed bytes in order. `space` returns where the next bytes go (never
 * empty while the member has bytes left), so stored members are read straight into the caller's
 * buffers; `filled(n)` reports that its first n bytes were written. Either may throw to stop.
 */
export interface MemberSink {
  space(): Uint8Array;
  filled(n: number): void;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_BYTES = 22;
const ZIP64_LOCATOR_BYTES = 20;
const MAX_COMMENT = 0xffff;
/** Far above any .npz's (a few dozen bytes per member) and small enough to read in one go. */
const MAX_CENTRAL_DIRECTORY_BYTES = 64 << 20;
/**
 * Deflate cannot expand data more than 1032:1 (a 258-byte match costs at least 2 bits), so a
 * declared size beyond that is a lie, refused before anything is inflated.
 */
const MAX_DEFLATE_RATIO = 1032;
/** Positioned reads are kept well under Node's 2 GiB limit per call. */
export const READ_PIECE_BYTES = 1 << 30;
const COMPRESSED_PIECE_BYTES = 4 << 20;
const INFLATE_CHUNK_BYTES = 1 << 20;

function bad(file: string, problem: string): UserInputError {
  return new UserInputError(`not a readable .npz (zip) archive: ${problem}`, file);
}

function u64(view: DataView, at: number, file: string, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(file, `${what} ${v} is beyond any real file`);
  return Number(v);
}

async function readExactly(fh: FileHandle, into: Uint8Array, position: number, file: string, what: string): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await fh.read(into, done, Math.min(into.byteLength - done, READ_PIECE_BYTES), position + done);
    if (bytesRead === 0) throw bad(file, `file ends inside ${what} (truncated?)`);
    done += bytesRead;
  }
}

async function readAt(fh: FileHandle, position: number, length: number, file: string, what: string): Promise<DataView> {
  const bytes = new Uint8Array(length);
  await readExactly(fh, bytes, position, file, what);
  return new DataView(bytes.buffer);
}

interface EndRecord {
  entries: number;
  cdSize: number;
  cdOffset: number;
  /** Where the central directory must end: the ZIP64 end record, or else the end record. */
  cdEnd: number;
}

async function readEndRecord(fh: FileHandle, fileSize: number, file: string): Promise<EndRecord> {
  if (fileSize < EOCD_BYTES) throw bad(file, `${fileSize} bytes is too short for a zip archive`);
  const tailLength = Math.min(fileSize, EOCD_BYTES + MAX_COMMENT);
  const tailStart = fileSize - tailLength;
  const tail = await readAt(fh, tailStart, tailLength, file, 'the end record');
  // The end record is the last thing in the file; its comment (up to 64 KiB) runs to the end.
  let at = -1;
  for (let p = tailLength - EOCD_BYTES; p >= 0; p--) {
    if (tail.getUint32(p, true) === EOCD_SIG && p + EOCD_BYTES + tail.getUint16(p + 20, true) === tailLength) {
      at = p;
      break;
    }
  }
  if (at < 0) throw bad(file, 'no end-of-central-directory record at the end of the file (truncated, or not a zip)');
  const eocdPos = tailStart + at;
  if (tail.getUint16(at + 4, true) !== 0 || tail.getUint16(at + 6, true) !== 0) throw bad(file, 'split (multi-part) archives are not supported');
  let entries = tail.getUint16(at + 10, true);
  let cdSize = tail.getUint32(at + 12, true);
  let cdOffset = tail.getUint32(at + 16, true);
  let cdEnd = eocdPos;

  const locatorPos = eocdPos - ZIP64_LOCATOR_BYTES;
  if (locatorPos >= 0 && (await readAt(fh, locatorPos, 4, file, 'the ZIP64 locator')).getUint32(0, true) === ZIP64_LOCATOR_SIG) {
    const loc = await readAt(fh, locatorPos, ZIP64_LOCATOR_BYTES, file, 'the ZIP64 locator');
    if (loc.getUint32(4, true) !== 0 || loc.getUint32(16, true) > 1) throw bad(file, 'split (multi-part) archives are not supported');
    const recPos = u64(loc, 8, file, 'ZIP64 end record offset');
    if (recPos + 56 > locatorPos) throw bad(file, `ZIP64 end record offset ${recPos} does not lie before its locator`);
    const rec = await readAt(fh, recPos, 56, file, 'the ZIP64 end record');
    if (rec.getUint32(0, true) !== ZIP64_EOCD_SIG) throw bad(file, `no ZIP64 end record at offset ${recPos}`);
    const recEnd = recPos + 12 + u64(rec, 4, file, 'ZIP64 end record size');
    if (recEnd !== locatorPos) throw bad(file, 'the ZIP64 end record does not end at its locator');
    if (rec.getUint32(16, true) !== 0 || rec.getUint32(20, true) !== 0) throw bad(file, 'split (multi-part) archives are not supported');
    entries = u64(rec, 32, file, 'entry count');
    cdSize = u64(rec, 40, file, 'central directory size');
    cdOffset = u64(rec, 48, file, 'central directory offset');
    cdEnd = recPos;
  }
  if (cdOffset + cdSize !== cdEnd) {
    throw bad(file, `central directory (offset ${cdOffset}, ${cdSize} bytes) does not end where the end record starts (${cdEnd}): truncated or corrupt`);
  }
  return { entries, cdSize, cdOffset, cdEnd };
}

/** Values of the ZIP64 extra field (id 1): present only for the fields saturated in the record. */
function applyZip64Extra(view: DataView, start: number, end: number, e: ZipEntry, file: string): void {
  const need = { size: e.size === 0xffffffff, compressed: e.compressedSize === 0xffffffff, offset: e.localHeaderOffset === 0xffffffff };
  let p = start;
  while (p + 4 <= end) {
    const id = view.getUint16(p, true);
    const len = view.getUint16(p + 2, true);
    if (p + 4 + len > end) throw bad(file, `member "${e.name}" has a malformed extra field`);
    if (id === 1) {
      let q = p + 4;
      const take = (what: string): number => {
        if (q + 8 > p + 4 + len) throw bad(file, `member "${e.name}" ZIP64 extra field lacks its ${what}`);
        const v = u64(view, q, file, `member "${e.name}" ${what}`);
        q += 8;
        return v;
      };
      if (need.size) e.size = take('uncompressed size');
      if (need.compressed) e.compressedSize = take('compressed size');
      if (need.offset) e.localHeaderOffset = take('local header offset');
      return;
    }
    p += 4 + len;
  }
  if (need.size || need.compressed || need.offset) throw bad(file, `member "${e.name}" needs a ZIP64 extra field and has none`);
}

/** Reads the end records and the central directory. */
export async function readZipIndex(fh: FileHandle, file: string): Promise<ZipIndex> {
  const fileSize = (await fh.stat()).size;
  const end = await readEndRecord(fh, fileSize, file);
  if (end.cdSize > MAX_CENTRAL_DIRECTORY_BYTES) throw bad(file, `central directory of ${end.cdSize} bytes is larger than any .npz needs`);
  if (end.entries > end.cdSize / 46) throw bad(file, `${end.entries} entries cannot fit a ${end.cdSize}-byte central directory`);
  const view = await readAt(fh, end.cdOffset, end.cdSize, file, 'the central directory');
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < end.entries; i++) {
    if (p + 46 > end.cdSize || view.getUint32(p, true) !== CENTRAL_SIG) throw bad(file, `central directory entry ${i} is corrupt`);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > end.cdSize) throw bad(file, `central directory entry ${i} runs past the directory`);
    if (view.getUint16(p + 34, true) !== 0 && view.getUint16(p + 34, true) !== 0xffff) throw bad(file, 'split (multi-part) archives are not supported');
    const e: ZipEntry = {
      name: decoder.decode(new Uint8Array(view.buffer, p + 46, nameLen)),
      flags: view.getUint16(p + 8, true),
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
    };
    applyZip64Extra(view, p + 46 + nameLen, p + 46 + nameLen + extraLen, e, file);
    entries.push(e);
    p = next;
  }
  if (p !== end.cdSize) throw bad(file, `central directory holds ${end.cdSize - p} bytes beyond its ${end.entries} entries`);
  return { file, fileSize, entries, centralDirectoryOffset: end.cdOffset };
}

/** Where the member's (compressed) data starts, after checking its local header agrees. */
async function memberDataStart(fh: FileHandle, zip: ZipIndex, e: ZipEntry): Promise<number> {
  const where = `member "${e.name}"`;
  if (e.localHeaderOffset + 30 > zip.centralDirectoryOffset) throw bad(zip.file, `${where} local header offset ${e.localHeaderOffset} is past the members`);
  const local = await readAt(fh, e.localHeaderOffset, 30, zip.file, `${where} local header`);
  if (local.getUint32(0, true) !== LOCAL_SIG) throw bad(zip.file, `${where} has no local header at offset ${e.localHeaderOffset}`);
  const nameLen = local.getUint16(26, true);
  const start = e.localHeaderOffset + 30 + nameLen + local.getUint16(28, true);
  const name = await readAt(fh, e.localHeaderOffset + 30, nameLen, zip.file, `${where} local header`);
  if (new TextDecoder().decode(name) !== e.name || local.getUint16(8, true) !== e.method) {
    throw bad(zip.file, `${where} local header disagrees with the central directory`);
  }
  if (start + e.compressedSize > zip.centralDirectoryOffset) {
    throw bad(zip.file, `${where} data (${e.compressedSize} bytes at ${start}) runs into the central directory`);
  }
  return start;
}

/**
 * Streams one member's uncompressed bytes into `sink`: exactly `e.size` bytes or a
 * UserInputError, with the CRC-32 checked at the end. Deflated output beyond `e.size` stops the
 * inflater at once, so a member lying about its size costs at most one inflate chunk more.
 */
export async function readZipMember(fh: FileHandle, zip: ZipIndex, e: ZipEntry, sink: MemberSink): Promise<void> {
  const where = `member "${e.name}"`;
  if (e.flags & 0x41) throw bad(zip.file, `${where} is encrypted`);
  if (e.method === 0 && e.compressedSize !== e.size) throw bad(zip.file, `stored ${where} has compressed size ${e.compressedSize} but size ${e.size}`);
  if (e.method !== 0 && e.method !== 8) throw bad(zip.file, `${where} uses compression method ${e.method}; only stored (0) and deflated (8) are supported`);
  if (e.method === 8 && e.size > MAX_DEFLATE_RATIO * e.compressedSize + 64) {
    throw bad(zip.file, `${where} declares ${e.size} bytes from ${e.compressedSize} compressed bytes, more than deflate can produce (corrupt, or a zip bomb)`);
  }
  const start = await memberDataStart(fh, zip, e);
  let crc = 0;
  if (e.method === 0) {
    let done = 0;
    while (done < e.size) {
      const space = sink.space();
      const n = Math.min(space.byteLength, e.size - done, READ_PIECE_BYTES);
      const into = space.subarray(0, n);
      await readExactly(fh, into, start + done, zip.file, where);
      crc = crc32(into, crc);
      sink.filled(n);
      done += n;
    }
  } else {
    let produced = 0;
    async function* compressed(): AsyncGenerator<Uint8Array> {
      for (let done = 0; done < e.compressedSize; ) {
        const piece = new Uint8Array(Math.min(COMPRESSED_PIECE_BYTES, e.compressedSize - done));
        await readExactly(fh, piece, start + done, zip.file, where);
        done += piece.byteLength;
        yield piece;
      }
    }
    // pipeline() reports an error thrown while consuming as an AbortError, so the reason is kept.
    let stopped: unknown;
    const consume = async (output: AsyncIterable<Buffer>): Promise<void> => {
      try {
        await consumeAll(output);
      } catch (err) {
        stopped = err;
        throw err;
      }
    };
    const consumeAll = async (output: AsyncIterable<Buffer>): Promise<void> => {
      for await (const out of output) {
        if (produced + out.byteLength > e.size) throw bad(zip.file, `${where} inflates past its declared ${e.size} bytes (corrupt, or a zip bomb)`);
        for (let off = 0; off < out.byteLength; ) {
          const space = sink.space();
          const n = Math.min(space.byteLength, out.byteLength - off);
          space.set(out.subarray(off, off + n));
          sink.filled(n);
          off += n;
        }
        crc = crc32(out, crc);
        produced += out.byteLength;
      }
    };
    try {
      await pipeline(Readable.from(compressed(), { highWaterMark: 2 }), createInflateRaw({ chunkSize: INFLATE_CHUNK_BYTES }), consume);
    } catch (err) {
      if (stopped !== undefined) throw stopped;
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && code.startsWith('Z_')) throw bad(zip.file, `${where} is not valid deflate data (${(err as Error).message})`);
      throw err;
    }
    if (produced !== e.size) throw bad(zip.file, `${where} inflates to ${produced} bytes but declares ${e.size} (truncated or corrupt)`);
  }
  if (crc !== e.crc32) throw bad(zip.file, `${where} fails its CRC-32 check (corrupt archive)`);
}
