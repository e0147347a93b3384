import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { JSX } from "hono/jsx/jsx-runtime";
import { COPY_SCRIPT_PATH, STYLESHEET_PATH } from "./assets";

/** What a page needs beyond its stylesheet and same-origin images. */
export interface PageNeeds {
  /** The copy script (the submit page shows a token). */
  script: boolean;
  /** Forms posting to this origin. */
  forms: boolean;
}

/**
 * The pages' Content-Security-Policy: nothing inline at all. The stylesheet and the copy script are allowed by
 * their exact paths on this origin (a CSP path source needs the scheme and host, hence `origin`), plots by origin;
 * forms post only here, and nothing may frame the pages. A page without script or forms (the leaderboard) allows
 * neither.
 */
export function pagePolicy(origin: string, needs: PageNeeds = { script: true, forms: true }): string {
  return [
    "default-src 'none'",
    `style-src ${origin}${STYLESHEET_PATH}`,
    needs.script ? `script-src ${origin}${COPY_SCRIPT_PATH}` : "",
    "img-src 'self'",
    `form-action ${needs.forms ? "'self'" : "'none'"}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ]
    .filter(Boolean)
    .join("; ");
}

/**
 * A page as a string, for callers that need one at once (the leaderboard's route and tests). Our components are all
 * synchronous, so the rendering is too; an asynchronous one would be a mistake, said here rather than rendered as
 * "[object Promise]".
 */
export function renderToString(element: JSX.Element): string {
  if (element instanceof Promise) throw new Error("renderToString renders synchronous components only");
  return element.toString();
}

/** The site's sections, in the navigation every page shows. */
const SITE_LINKS = [
  { href: "/", label: "Leaderboard" },
  { href: "/submit", label: "Submit a task" },
  { href: "/docs", label: "API" },
] as const;

export interface LayoutProps {
  title: string;
  children: Child;
  /** Reload the page after this many seconds (a status page while its evaluation runs); no script needed. */
  refreshSeconds?: number | undefined;
  /** Load the copy script (only the page that shows a token has anything for it to do). */
  copyScript?: boolean;
  /** The site section this page is (its navigation link is marked as the current page). */
  here?: (typeof SITE_LINKS)[number]["href"];
  /** What this page adds to the shared footer (the leaderboard's data links). */
  footer?: Child;
}

/** The shell every page shares: head, skip link, site navigation, one main landmark, footer. */
export function Layout({ title, children, refreshSeconds, copyScript = false, here, footer }: LayoutProps) {
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
              {SITE_LINKS.map((link) => (
                <a href={link.href} aria-current={link.href === here ? "page" : undefined}>
                  {link.label}
                </a>
              ))}
            </nav>
          </header>
          <main id="main" tabindex={-1}>
            <h1>{title}</h1>
            {children}
          </main>
          <footer class="site">
            {footer}
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
