export declare const WRANGLER_ENV: Record<string, string | undefined>;
export declare const REFERENCE_CONFIG: string;
export declare function startDevServer(options?: {
  config?: string;
  port?: number;
  host?: string;
  persistTo?: string;
  vars?: Record<string, string>;
  log?: (line: string) => void;
}): Promise<{ url: string; stop: () => Promise<void> }>;
export declare function freePort(): Promise<number>;
