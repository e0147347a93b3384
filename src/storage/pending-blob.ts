/**
 * An R2 object written as its bytes arrive, whose final key is known only at the end (content-addressed by a hash
 * of everything written). Up to one part is buffered: a small object is put once under its final key; a larger
 * one goes up as a multipart upload to a staging key and is copied into place on commit. Nothing is left behind
 * when it is discarded, so a rejected upload stores nothing.
 */
const MIN_PART_BYTES = 5 * 1024 * 1024; // R2: every part but the last has this size at least, all of one size

export class PendingBlob {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private upload: R2MultipartUpload | undefined;
  private readonly parts: R2UploadedPart[] = [];
  private completed = false;
  size = 0;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly stagingKey: string,
    private readonly partBytes = MIN_PART_BYTES,
  ) {}

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    this.size += bytes.length;
  }

  /** Uploads every full part buffered so far (call after writes, to keep memory at one part). */
  async flush(): Promise<void> {
    while (this.buffered >= this.partBytes) {
      this.upload ??= await this.bucket.createMultipartUpload(this.stagingKey);
      const part = this.take(this.partBytes);
      this.parts.push(await this.upload.uploadPart(this.parts.length + 1, part));
    }
  }

  /** Stores the bytes under finalKey (kept as it is when an object already has that key: same content). */
  async commit(finalKey: string, options: R2PutOptions = {}): Promise<void> {
    if (this.completed) {
      // Parked under the staging key by complete(): copied into place, then the staging copy goes.
      try {
        if (!(await this.bucket.head(finalKey))) await this.copy(finalKey, options);
      } finally {
        await this.bucket.delete(this.stagingKey);
        this.completed = false;
      }
      return;
    }
    if (!this.upload) {
      if (!(await this.bucket.head(finalKey))) await this.bucket.put(finalKey, this.take(this.buffered), options);
      this.chunks = [];
      return;
    }
    if (this.buffered > 0)
      this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.take(this.buffered)));
    await this.upload.complete(this.parts);
    try {
      if (!(await this.bucket.head(finalKey))) await this.copy(finalKey, options);
    } finally {
      await this.bucket.delete(this.stagingKey);
    }
  }

  /**
   * Stores the bytes under the staging key itself, freeing the memory they held: to be read back, then discarded
   * or committed under their final key.
   */
  async complete(options: R2PutOptions = {}): Promise<void> {
    if (!this.upload) {
      await this.bucket.put(this.stagingKey, this.take(this.buffered), options);
    } else {
      if (this.buffered > 0)
        this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.take(this.buffered)));
      await this.upload.complete(this.parts);
      this.upload = undefined;
    }
    this.completed = true;
  }

  async discard(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    if (this.upload) await this.upload.abort().catch(() => undefined);
    this.upload = undefined;
    if (this.completed) await this.bucket.delete(this.stagingKey);
    this.completed = false;
  }

  private async copy(finalKey: string, options: R2PutOptions): Promise<void> {
    const staged = await this.bucket.get(this.stagingKey);
    if (!staged) throw new Error(`staged object ${this.stagingKey} vanished before it was copied`);
    // R2 needs a known length for a streamed put.
    const sized = new FixedLengthStream(staged.size);
    const piping = staged.body.pipeTo(sized.writable);
    await this.bucket.put(finalKey, sized.readable, options);
    await piping;
  }

  private take(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const head = this.chunks[0];
      if (head === undefined) throw new RangeError(`took ${length} bytes with only ${filled} buffered`);
      const used = Math.min(head.length, length - filled);
      out.set(head.subarray(0, used), filled);
      filled += used;
      if (used === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(used);
    }
    this.buffered -= length;
    return out;
  }
}
