import { sha256Hex } from "../util/hash";
import { acceptedSubmissions, insertSnapshot, latestSnapshot } from "../storage/review";
import { buildLeaderboard, type AcceptedTask } from "./build";

/** Rebuilds the leaderboard from accepted submissions and stores it as the current snapshot. */
export async function rebuildLeaderboard(db: D1Database): Promise<{ etag: string; json: string }> {
  const accepted = await acceptedSubmissions(db);
  const board = buildLeaderboard(accepted as AcceptedTask[], new Date().toISOString());
  const json = JSON.stringify(board);
  const etag = `"${(await sha256Hex(JSON.stringify(board.tasks))).slice(0, 32)}"`;
  await insertSnapshot(db, json, etag, board.generatedAt);
  return { etag, json };
}

/** The current snapshot, built on first use. */
export async function currentLeaderboard(db: D1Database): Promise<{ etag: string; json: string }> {
  return (await latestSnapshot(db)) ?? rebuildLeaderboard(db);
}
