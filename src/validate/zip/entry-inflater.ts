import { UnzipInflate } from "fflate";
import { Crc32 } from "./crc32";

/** The compression methods read: stored (0) and DEFLATE (8), which is what every common zipper writes. */
export const SUPPORTED_METHODS: ReadonlySet<number> = new Set([0, 8]);

/**
 * Compressed bytes given to the inflater at a time. DEFLATE inflates at most about 1,032 bytes per compressed
 * byte, so one slice inflates to at most about 2 MiB: that bounds the memory one piece can take, and how far past a
 * limit inflating can go before the limit is checked again.
 */
export const INFLATE_SLICE_BYTES = 2048;

/** Receives each inflated piece; the inflater stops once `stopped` says so (a limit was reached). */
export interface InflateSink {
  piece(bytes: Uint8Array): Promise<void>;
  stopped(): boolean;
}

/**
 * Inflates one entry's data as it arrives, with fflate's streaming zip decoder (UnzipInflate), in slices of
 * INFLATE_SLICE_BYTES; counts the bytes in and out and the CRC of what comes out, so the caller can check the
 * compression ratio after every piece and the entry's checksum at its end.
 */
export class EntryInflater {
  compressedBytes = 0;
  inflatedBytes = 0;
  /** The largest piece inflated at once, in bytes (what the memory bound above is about). */
  largestPiece = 0;
  /** Why the data could not be inflated, if it could not. */
  failure: string | undefined;
  private readonly crc = new Crc32();
  private readonly decoder: UnzipInflate | undefined;
  /** Pieces the decoder produced during the current push, handed on after it returns (its callback is not async). */
  private produced: Uint8Array[] = [];

  constructor(
    method: number,
    private readonly sink: InflateSink,
  ) {
    if (method === 8) {
      const decoder = new UnzipInflate();
      decoder.ondata = (error, data) => {
        if (error) this.failure ??= error.message;
        else if (data && data.length > 0) this.produced.push(data);
      };
      this.decoder = decoder;
    }
  }

  get checksum(): number {
    return this.crc.value;
  }

  async push(compressed: Uint8Array): Promise<void> {
    for (let at = 0; at < compressed.length && this.running; at += INFLATE_SLICE_BYTES) {
      const slice = compressed.subarray(at, at + INFLATE_SLICE_BYTES);
      this.compressedBytes += slice.length;
      await this.inflate(slice, false);
    }
  }

  /** The end of the entry's data: a DEFLATE stream that has not ended is a failure. */
  async finish(): Promise<void> {
    // An entry with no data is empty whatever its method says (a DEFLATE stream is never empty).
    if (this.running && this.compressedBytes > 0) await this.inflate(new Uint8Array(0), true);
  }

  private get running(): boolean {
    return this.failure === undefined && !this.sink.stopped();
  }

  private async inflate(slice: Uint8Array, final: boolean): Promise<void> {
    if (this.decoder) this.decoder.push(slice, final);
    else if (slice.length > 0) this.produced.push(slice);
    const pieces = this.produced;
    this.produced = [];
    for (const piece of pieces) {
      if (!this.running) return;
      this.inflatedBytes += piece.length;
      this.largestPiece = Math.max(this.largestPiece, piece.length);
      this.crc.update(piece);
      await this.sink.piece(piece);
    }
  }
}
