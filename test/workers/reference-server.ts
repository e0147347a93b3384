/**
 * globalSetup for the workers tests: the reference family's server, over real HTTP on loopback, so tests inside
 * workerd reach a real model the way a deployment reaches a provider. (Its own Worker is tested under
 * wrangler dev in test/node; here it runs in Node to start in a fraction of a second.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { trainReferenceFamily } from "../../src/reference/family";
import { createReferenceApp } from "../../src/reference/server";
import { serveOverHttp } from "../reference-http";

declare module "vitest" {
  export interface ProvidedContext {
    referenceUrl: string;
    /** The same server answering each request after 5 s (FAULT_LATENCY_MS): requests a test can catch in flight. */
    slowReferenceUrl: string;
  }
}

const SLOW_LATENCY_MS = 5_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const reference = (file: string) =>
    readFileSync(join(import.meta.dirname, "..", "..", "src", "reference", file), "utf8");
  // The n-gram family and the RLHF stand-in, as the reference Worker serves them.
  const family = trainReferenceFamily(reference("corpus.txt"), reference("preference.txt"));
  const server = await serveOverHttp(createReferenceApp({ family: () => family, vars: () => ({}) }));
  const slow = await serveOverHttp(
    createReferenceApp({ family: () => family, vars: () => ({ FAULT_LATENCY_MS: String(SLOW_LATENCY_MS) }) }),
  );
  project.provide("referenceUrl", `${server.origin}/v1`);
  project.provide("slowReferenceUrl", `${slow.origin}/v1`);
  return async () => {
    await Promise.all([server.close(), slow.close()]);
  };
}
