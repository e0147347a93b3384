/** The two stores every service writes to: D1 for records, R2 for the bytes (task files, examples, results). */
export interface StorageBindings {
  DB: D1Database;
  BLOBS: R2Bucket;
}
