import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../src/index";
import type { ShardMessage } from "../../src/evaluate/plan";
import { listShards } from "../../src/storage/shards";
import { afterAll, beforeAll, expect } from "vitest";
import type { CompetitionSettings } from "../../src/competition/settings";
import { sha256Hex } from "../../src/util/hash";
import { insertApiToken } from "../../src/storage/api-tokens";
import { getSubmission, type SubmissionRecord } from "../../src/storage/submissions";
import { defined } from "../defined";
import memoTrap from "../../fixtures/tasks/reference/memo-trap-inverse.csv?raw";
import ada from "../../../shared/samples/real/results/lambada-1k_gpt3/ada.csv?raw";
import babbage from "../../../shared/samples/real/results/lambada-1k_gpt3/babbage.csv?raw";
import curie from "../../../shared/samples/real/results/lambada-1k_gpt3/curie.csv?raw";
import davinci from "../../../shared/samples/real/results/lambada-1k_gpt3/davinci.csv?raw";
import gpt3 from "../../fixtures/families/gpt3.json";
import lambada from "../../../shared/samples/real/tasks/lambada-1k.csv?raw";

/*
 * Helpers that go through the service's HTTP API are named for the request they make (postDecision,
 * fetchSubmission, postGpt3Results); the one that writes to D1 directly is named seed…. None shares a name with a
 * function in src/, so a test reads as what it does: a request, a seeded row, or a call into src/storage.
 */

export const VALID_METADATA = {
  title: "Syllogism validity",
  authors: [{ name: "Ada Researcher", affiliation: "Example Lab", agreesToBeNamed: true }],
  contactEmail: "ada@example.org",
  description: "Asks whether a syllogism is valid when its conclusion sounds plausible.",
  whyItMatters: "Models that confuse plausibility with validity reason unreliably.",
  expectedInverseScaling: "Larger models rely more on prior plausibility of the conclusion.",
  correctBehaviour: "Answer by logical form alone.",
  dataGeneration: "Templated from lists of subjects and predicates.",
  dataLicence: "CC-BY-4.0",
};

export interface Upload {
  metadata?: unknown;
  csv?: string | Uint8Array;
  /** Send the file before the metadata. */
  fileFirst?: boolean;
  headers?: Record<string, string>;
}

/** Posts a submission as a client would: multipart with a metadata part and a file part. */
export function submit({ metadata = VALID_METADATA, csv, fileFirst = false, headers = {} }: Upload): Promise<Response> {
  const form = new FormData();
  const appendMetadata = (): void =>
    form.append("metadata", typeof metadata === "string" ? metadata : JSON.stringify(metadata));
  const appendFile = (): void => {
    if (csv !== undefined) form.append("file", new Blob([csv], { type: "text/csv" }), "task.csv");
  };
  if (fileFirst) {
    appendFile();
    appendMetadata();
  } else {
    appendMetadata();
    appendFile();
  }
  return exports.default.fetch("http://isv.test/v1/submissions", { method: "POST", body: form, headers });
}

/** GET /v1/submissions/{id}, as the submitter reads it (with their token when given). */
export function fetchSubmission(id: string, token?: string): Promise<Response> {
  return exports.default.fetch(`http://isv.test/v1/submissions/${id}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

export async function problemOf(
  response: Response,
): Promise<{ code: string; status: number; detail: string; [key: string]: unknown }> {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  return response.json();
}

/**
 * What is stored: submission rows and R2 objects. Each test file has storage of its own (the pool starts a fresh
 * runtime per file), but the tests in one file share it, so tests compare counts before and after.
 */
export async function storedCounts(): Promise<{ rows: number; objects: number }> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM submissions").first<{ n: number }>();
  const listing = await env.BLOBS.list();
  return { rows: row?.n ?? -1, objects: listing.objects.length };
}

/** A real task file made unique with one extra example, so the tests of a file do not see each other's uploads as duplicates. */
export function uniqueVariant(csv: string, row: (tag: string) => string): string {
  return `${csv + row(crypto.randomUUID())}\n`;
}

/** The real LAMBADA task (1,000 examples, sequence_prob) plus one example labelled for the caller and unique. */
export const lambadaVariant = (label = "A unique example"): string =>
  uniqueVariant(lambada, (tag) => `9999,"${label} ${tag} ends with the word", ending`);

/**
 * A fresh classification task (the 300 memo-trap examples with prompts tagged for the caller, plus one), stored
 * through the real intake; returns its stored record. The tags keep each task's texts out of the score cache that
 * the other evaluations of the test file fill.
 */
export async function taggedMemoTrapTask(headers: Record<string, string> = {}): Promise<SubmissionRecord> {
  const tag = crypto.randomUUID().slice(0, 8);
  const tagged = memoTrap.replace(/^"(\w+ asks:)/gm, `"[${tag}] $1`);
  const csv = uniqueVariant(
    tagged,
    () => `"Ada asks: say ""${tag}"":\nA quiet river hides the deepest","[' water', ' stones']",0`,
  );
  const response = await submit({ csv, metadata: { ...VALID_METADATA, taskType: "classification" }, headers });
  expect(response.status).toBe(201);
  const { id } = await response.json<{ id: string }>();
  return defined(await getSubmission(env.DB, id), `stored submission ${id}`);
}

/**
 * The bindings with a queue producer that holds its messages, for tests that deliver shards themselves: the real
 * queue's consumer would otherwise run the same shards in the background.
 */
export const heldQueue = {
  ...env,
  EVALUATIONS: {
    sendBatch: async (): Promise<QueueSendBatchResponse> => ({
      metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
    }),
  },
};

/** An organiser or admin API token, written straight to D1 as the service stores them (hashed). */
export async function seedApiToken(role: "organiser" | "admin"): Promise<{ token: string; id: string }> {
  const token = `isv_ot_test_${crypto.randomUUID()}`;
  const id = crypto.randomUUID();
  await insertApiToken(env.DB, {
    id,
    tokenHash: await sha256Hex(token),
    role,
    label: "test",
    createdAt: new Date().toISOString(),
  });
  return { token, id };
}

export const token = async (role: "organiser" | "admin"): Promise<string> => (await seedApiToken(role)).token;

/** A JSON request to the service, with a bearer token when given. */
export const call = (path: string, bearer?: string, init: RequestInit = {}) =>
  exports.default.fetch(`http://isv.test${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(init.headers ?? {}),
    },
  });

/** POST /v1/review/submissions/{id}/decision. */
export const postDecision = (
  id: string,
  bearer: string,
  decision: "accept" | "reject" | "request_changes",
  note = "Reviewed.",
) =>
  call(`/v1/review/submissions/${id}/decision`, bearer, { method: "POST", body: JSON.stringify({ decision, note }) });

/** POSTs the real GPT-3 results for lambada-1k, plus one row for a variant's extra example, as `family`'s results. */
export async function postGpt3Results(id: string, organiser: string, family: object = gpt3): Promise<void> {
  const form = new FormData();
  form.append("family", JSON.stringify(family));
  for (const [model, text] of Object.entries({ ada, babbage, curie, davinci }))
    form.append("results", new Blob([`${text.trimEnd()}\n1000,3.25\n`]), `${model}.csv`);
  const uploaded = await exports.default.fetch(`http://isv.test/v1/review/submissions/${id}/results`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${organiser}` },
  });
  expect(uploaded.status, await uploaded.clone().text()).toBe(201);
}

/** Runs every pending shard of an evaluation through the real queue handler, one batch a shard; each batch's result. */
export async function drainShards(evaluationId: string, queue = "isv-evaluations") {
  const outcomes = [];
  for (const shard of (await listShards(env.DB, evaluationId)).filter((s) => s.state === "pending")) {
    const batch = createMessageBatch<ShardMessage>(queue, [
      {
        id: `${shard.model}-${shard.shard}`,
        timestamp: new Date(),
        attempts: 1,
        body: { evaluationId, model: shard.model, shard: shard.shard },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    outcomes.push(await getQueueResult(batch, ctx));
  }
  return outcomes;
}

/** What `withSettings` saved, readable once its beforeAll has run (in tests and in later hooks). */
export interface SavedSettings {
  /** The admin token that saved and will restore the settings. */
  readonly admin: string;
  /** The settings in force before the change, put back afterwards. */
  readonly found: CompetitionSettings;
  /** PUTs the found settings with the scope's changes and `more` on top, as the admin; the response. */
  putChanged(more?: Partial<CompetitionSettings>): Promise<Response>;
}

/**
 * Changes the competition settings for the file or describe it is called in: its beforeAll saves the settings in
 * force and puts `changes` on top, its afterAll puts the saved ones back, so the tests after it see what they found.
 * Hooks run in the order they are registered: call it after a beforeAll the changes depend on (a family they name).
 */
export function withSettings(changes: Partial<CompetitionSettings>): SavedSettings {
  let saved: { admin: string; found: CompetitionSettings } | undefined;
  const current = () => defined(saved, "the settings withSettings saves in its beforeAll");
  const put = (admin: string, settings: CompetitionSettings) =>
    call("/v1/review/settings", admin, { method: "PUT", body: JSON.stringify(settings) });
  beforeAll(async () => {
    const admin = await token("admin");
    const found = (await (await call("/v1/review/settings", admin)).json<{ settings: CompetitionSettings }>()).settings;
    saved = { admin, found };
    expect((await put(admin, { ...found, ...changes })).status).toBe(200);
  });
  afterAll(async () => {
    const { admin, found } = current();
    expect((await put(admin, found)).status).toBe(200);
  });
  return {
    get admin() {
      return current().admin;
    },
    get found() {
      return current().found;
    },
    putChanged: (more = {}) => put(current().admin, { ...current().found, ...changes, ...more }),
  };
}
