export declare const WRANGLER_ENV: Record<string, string | undefined>;
export declare function startDevServer(options?: {
  port?: number;
  host?: string;
  persistTo?: string;
  vars?: Record<string, string>;
  log?: (line: string) => void;
}): Promise<{ url: string; stop: () => Promise<void> }>;
