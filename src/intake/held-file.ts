import type { StorageBindings } from "../storage/bindings";
import { PendingBlob } from "../storage/pending-blob";
import { describeError } from "../log";

/**
 * A task file that arrived before its metadata, held in R2 staging until the metadata says how to check it: the
 * declared task type decides the columns and rules, so the file is validated (and its examples written) once the
 * metadata has been read, from staging, as it would have been straight from the body. Memory stays at one R2
 * part however large the file is.
 */
export type HeldTaskFile =
  | { kind: "too_large" }
  | { kind: "held"; chunks: () => Promise<AsyncIterable<Uint8Array>>; discard: () => Promise<void> };

/**
 * Streams `file` into staging, stopping as soon as it passes `maxBytes` (then nothing is left in staging). The
 * caller must `discard` a held file whatever happens next: it is a copy to read from, never the stored file.
 */
export async function holdTaskFile(
  bindings: StorageBindings,
  file: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<HeldTaskFile> {
  // Either format: which one is read from the bytes later.
  const key = `staging/${crypto.randomUUID()}.held`;
  const blob = new PendingBlob(bindings.BLOBS, key);
  try {
    for await (const chunk of file) {
      blob.write(chunk);
      if (blob.size > maxBytes) {
        await blob.discard();
        return { kind: "too_large" };
      }
      await blob.flush();
    }
    await blob.complete();
  } catch (error) {
    await blob.discard().catch(() => undefined);
    throw error;
  }
  return {
    kind: "held",
    chunks: async () => {
      const object = await bindings.BLOBS.get(key);
      if (!object) throw new Error(`held upload ${key} vanished from staging`);
      return object.body;
    },
    // Never throws: by the time a held copy is discarded the upload may be stored, and its answer (holding the
    // only copy of the submitter token) must not turn into an error over a copy left in staging.
    discard: () =>
      blob.discard().catch((error: unknown) => console.error(`could not discard ${key}: ${describeError(error)}`)),
  };
}
