import type { ApiToken, NewApiToken, Role } from "./api-token-records";

export type { ApiToken, Role } from "./api-token-records";

/** The live (not revoked) token with this hash, if any. */
export async function findApiToken(db: D1Database, tokenHash: string): Promise<ApiToken | undefined> {
  const row = await db
    .prepare("SELECT id, role, label FROM api_tokens WHERE token_hash = ?1 AND revoked_at IS NULL")
    .bind(tokenHash)
    .first<{ id: string; role: Role; label: string }>();
  return row ?? undefined;
}

export async function insertApiToken(db: D1Database, token: NewApiToken): Promise<void> {
  await db
    .prepare("INSERT INTO api_tokens (id, token_hash, role, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
    .bind(token.id, token.tokenHash, token.role, token.label, token.createdAt)
    .run();
}
