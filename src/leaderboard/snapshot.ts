import { acceptedSubmissions, insertSnapshot, latestSnapshot } from "../storage/leaderboard";
import { readStoredJson } from "../storage/stored-json";
import { buildLeaderboard, leaderboardEtag, type Leaderboard } from "./build";

type Snapshot = { etag: string; json: string };

/**
 * How long an isolate serves the snapshot it last read without asking D1 again. The leaderboard is the most read
 * page and changes only on decisions: a rebuild in this isolate replaces the copy at once, and another isolate's
 * copy is at most this old (well inside the 60 s that Cache-Control already lets clients keep it).
 */
export const SNAPSHOT_REUSE_MS = 5_000;

let held: { db: D1Database; snapshot: Snapshot; readAt: number } | undefined;

/** Rebuilds the leaderboard from accepted submissions and stores it as the current snapshot. */
export async function rebuildLeaderboard(db: D1Database): Promise<Snapshot> {
  const accepted = await acceptedSubmissions(db);
  const board = buildLeaderboard(accepted, new Date().toISOString());
  const json = JSON.stringify(board);
  const etag = await leaderboardEtag(board);
  await insertSnapshot(db, json, etag, board.generatedAt);
  held = { db, snapshot: { etag, json }, readAt: Date.now() };
  return { etag, json };
}

/** The current snapshot, built on first use; reused for SNAPSHOT_REUSE_MS within an isolate. */
export async function currentLeaderboard(db: D1Database): Promise<Snapshot> {
  if (held && held.db === db && Date.now() - held.readAt < SNAPSHOT_REUSE_MS) return held.snapshot;
  const snapshot = (await latestSnapshot(db)) ?? (await rebuildLeaderboard(db));
  held = { db, snapshot, readAt: Date.now() };
  return snapshot;
}

/** The board a snapshot holds, for the page and the CSV (the JSON endpoint serves the stored text as it is). */
export const snapshotBoard = (snapshot: { json: string }): Leaderboard => readStoredJson<Leaderboard>(snapshot.json);
