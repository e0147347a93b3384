import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { COPY_SCRIPT_PATH, STYLESHEET_PATH } from "./assets";

/**
 * The pages' Content-Security-Policy: nothing inline at all. The stylesheet and the copy script are allowed by
 * their exact paths on this origin (a CSP path source needs the scheme and host, hence `origin`), plots by origin;
 * forms post only here, and nothing may frame the pages.
 */
export function pagePolicy(origin: string): string {
  return [
    "default-src 'none'",
    `style-src ${origin}${STYLESHEET_PATH}`,
    `script-src ${origin}${COPY_SCRIPT_PATH}`,
    "img-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export interface LayoutProps {
  title: string;
  children: Child;
  /** Reload the page after this many seconds (a status page while its evaluation runs); no script needed. */
  refreshSeconds?: number | undefined;
  /** Load the copy script (only the page that shows a token has anything for it to do). */
  copyScript?: boolean;
}

/** The shell every page shares: head, skip link, site navigation, one main landmark, footer. */
export function Layout({ title, children, refreshSeconds, copyScript = false }: LayoutProps) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {refreshSeconds === undefined ? null : <meta http-equiv="refresh" content={String(refreshSeconds)} />}
          <title>{`${title} · Inverse Scaling`}</title>
          <link rel="stylesheet" href={STYLESHEET_PATH} />
          {copyScript ? <script src={COPY_SCRIPT_PATH} defer /> : null}
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to the content
          </a>
          <header class="site">
            <nav aria-label="Site">
              <a href="/">Leaderboard</a>
              <a href="/submit">Submit a task</a>
              <a href="/docs">API</a>
            </nav>
          </header>
          <main id="main" tabindex={-1}>
            <h1>{title}</h1>
            {children}
          </main>
          <footer class="site">
            <p>
              Inverse Scaling validator. Everything here also works from the API (<a href="/docs">reference</a>) and the{" "}
              <code>isv</code> command line.
            </p>
          </footer>
        </body>
      </html>
    </>
  );
}
