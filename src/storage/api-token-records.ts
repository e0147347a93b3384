/** API token records, shared by the Worker (lookups) and the CLI (creation through wrangler). */
export type Role = "organiser" | "admin";

export interface ApiToken {
  id: string;
  role: Role;
  label: string;
}

export interface NewApiToken extends ApiToken {
  tokenHash: string;
  createdAt: string;
}

const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** The SQL that inserts a token, for the CLI to run through wrangler (values are hex, an enum and an escaped label). */
export function insertApiTokenSql(token: NewApiToken): string {
  return `INSERT INTO api_tokens (id, token_hash, role, label, created_at) VALUES (${[token.id, token.tokenHash, token.role, token.label, token.createdAt].map(literal).join(", ")});`;
}

/** Every token's record, never its hash: what `isv token list` shows. */
export const LIST_API_TOKENS_SQL =
  "SELECT id, role, label, created_at AS createdAt, revoked_at AS revokedAt FROM api_tokens ORDER BY created_at, id;";

/** Revokes one live token: it stops working at once, and its record stays (revoked_at) for the audit trail. */
export const revokeApiTokenSql = (id: string, at: string): string =>
  `UPDATE api_tokens SET revoked_at = ${literal(at)} WHERE id = ${literal(id)} AND revoked_at IS NULL;`;

/** A token's record as `isv token list` prints it. */
export interface ApiTokenListing extends ApiToken {
  createdAt: string;
  revokedAt: string | null;
}
