import type { FilesReport } from "../../generated/types";
import { DEFAULT_LIMITS } from "../report";

/** The limits an archive is read under, as the report records them (field meanings in the schema). */
export type ZipLimits = FilesReport["limits"];

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  // A submission is a handful of parts, controls and variants; 32 leaves room for __MACOSX junk and folders, and
  // bounds the per-entry work (a report each) an archive of thousands of empty entries would cause.
  maxEntries: 32,
  // The same work as the largest single file: an archive is no way round the upload's size limit.
  maxTotalBytes: DEFAULT_LIMITS.maxBytes,
  // Task files deflate 2 to 35 times (the prize's real files: lambada-1k 2.4, QA_bias-v2 34), but one few-shot
  // prompt of 1,000 to 10,000 characters repeated on every row measured 114 to 156 times (zlib level 9). A bomb
  // built of runs inflates about 1,000 times (DEFLATE's maximum is about 1,032), so 200 stops it within ratioFreeBytes
  // and a slice, while the honest extreme keeps a margin. Whatever the ratio, maxTotalBytes bounds the work.
  maxCompressionRatio: 200,
  // Tiny files can have any ratio (a header and a row of repeated text), and inflating 1 MiB costs nothing.
  ratioFreeBytes: 1024 * 1024,
  // Names are shown in every report line; no honest path inside a submission is longer.
  maxNameBytes: 255,
};
