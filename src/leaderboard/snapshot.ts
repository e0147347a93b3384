import { sha256Hex } from "../util/hash";
import { acceptedSubmissions, insertSnapshot, latestSnapshot } from "../storage/leaderboard";
import { readStoredJson } from "../storage/stored-json";
import { buildLeaderboard, type Leaderboard } from "./build";

/** Rebuilds the leaderboard from accepted submissions and stores it as the current snapshot. */
export async function rebuildLeaderboard(db: D1Database): Promise<{ etag: string; json: string }> {
  const accepted = await acceptedSubmissions(db);
  const board = buildLeaderboard(accepted, new Date().toISOString());
  const json = JSON.stringify(board);
  const etag = `"${(await sha256Hex(JSON.stringify(board.tasks))).slice(0, 32)}"`;
  await insertSnapshot(db, json, etag, board.generatedAt);
  return { etag, json };
}

/** The current snapshot, built on first use. */
export async function currentLeaderboard(db: D1Database): Promise<{ etag: string; json: string }> {
  return (await latestSnapshot(db)) ?? rebuildLeaderboard(db);
}

/** The board a snapshot holds, for the page and the CSV (the JSON endpoint serves the stored text as it is). */
export const snapshotBoard = (snapshot: { json: string }): Leaderboard => readStoredJson<Leaderboard>(snapshot.json);
