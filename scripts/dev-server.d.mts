export declare const WRANGLER_ENV: Record<string, string | undefined>;
export declare const REFERENCE_CONFIG: string;
export declare const LOCAL_CRON_MS: number;
export declare const LOCAL_RESTART_CRON: string;
export declare function startDevServer(options?: {
  config?: string;
  port?: number;
  host?: string;
  persistTo?: string;
  vars?: Record<string, string>;
  log?: (line: string) => void;
  scheduledEveryMs?: number;
  processGroup?: boolean;
}): Promise<{ url: string; stop: () => Promise<void>; kill: () => Promise<void> }>;
export declare function freePort(): Promise<number>;
