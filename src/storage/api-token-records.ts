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

/** The SQL that inserts a token, for the CLI to run through wrangler (values are hex, an enum and an escaped label). */
export function insertApiTokenSql(token: NewApiToken): string {
  const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
  return `INSERT INTO api_tokens (id, token_hash, role, label, created_at) VALUES (${[token.id, token.tokenHash, token.role, token.label, token.createdAt].map(literal).join(", ")});`;
}
