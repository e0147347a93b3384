import { readStoredJson } from "./stored-json";
import type { Example } from "../validate/row-rules";

/**
 * A task's normalised examples, as intake stores them beside its file (under `examplesKey`): JSON Lines, one
 * example a line, in the task's order.
 */

export { exampleLine } from "./example-line";

/** Every stored example of a task, in order; undefined when the object is missing. */
export async function readExamples(bucket: R2Bucket, key: string): Promise<Example[] | undefined> {
  const object = await bucket.get(key);
  if (!object) return undefined;
  return (await object.text())
    .split("\n")
    .filter(Boolean)
    .map((line) => readStoredJson<Example>(line));
}
