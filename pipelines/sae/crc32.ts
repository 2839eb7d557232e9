// CRC-32 (ISO-HDLC, the ZIP/gzip checksum), running: crc32(b, crc32(a)) === crc32(a ++ b).
// zlib's native crc32 is in Node from 20.15 / 22.2; older Node 20 releases get the table-driven
// version, which computes the same function (the tests compare the two).
import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  return table;
}

/** The table-driven CRC-32 (reflected polynomial 0xEDB88320). */
export function crc32Portable(bytes: Uint8Array, crc = 0): number {
  const t = crcTable();
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native: ((data: Uint8Array, value?: number) => number) | undefined = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

/** CRC-32 of `bytes` continuing from `crc` (0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return native ? native(bytes, crc) >>> 0 : crc32Portable(bytes, crc);
}
