/** The CRC-32 zip uses (IEEE 802.3, reflected, polynomial 0xEDB88320), one byte-wise table. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * A running CRC-32 over bytes given in pieces. fflate's streaming decoders do not check an entry's CRC, and a
 * stored (uncompressed) entry has nothing else that would show a changed byte.
 */
export class Crc32 {
  private crc = 0xffffffff;

  update(bytes: Uint8Array): void {
    let crc = this.crc;
    // Both lookups are always in range (an index below the length, a byte into 256 entries); ?? 0 satisfies the type.
    for (let i = 0; i < bytes.length; i++) crc = (TABLE[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
    this.crc = crc;
  }

  get value(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}
