import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/openapi";

/**
 * GET /openapi.json serves the document that CI lints (`npm run lint:openapi` bundles the same module), and /docs
 * renders every operation from it: parameters, who may call it, and the problem codes of each error response.
 */
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  security: Record<string, string[]>[];
  responses: Record<
    string,
    { content?: Record<string, { schema?: { allOf?: { properties?: { code?: { enum: string[] } } }[] } }> }
  >;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

const codesOf = (response: Operation["responses"][string]): string[] =>
  response.content?.["application/problem+json"]?.schema?.allOf?.[1]?.properties?.code?.enum ?? [];

let document: Document;
let html: string;
let policy: string | null;
let operations: { label: string; operation: Operation }[];

/** The page's section for one operation, from its opening tag to its end. */
function sectionOf(operationId: string): string {
  const start = html.indexOf(`<section id="${operationId}">`);
  return start < 0 ? "" : html.slice(start, html.indexOf("</section>", start));
}

beforeAll(async () => {
  document = await (await exports.default.fetch("http://isv.test/openapi.json")).json<Document>();
  const page = await exports.default.fetch("http://isv.test/docs");
  policy = page.headers.get("content-security-policy");
  html = await page.text();
  operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ label: `${method.toUpperCase()} ${path}`, operation })),
  );
});

/** The pages' session schemes and the cookie each is carried in (the rest are bearer tokens). */
const PAGE_COOKIES: Record<string, string> = { submitterSession: "isv_submitter", organiserSession: "isv_organiser" };

describe("GET /openapi.json", () => {
  it("serves the document module as it is", () => {
    expect(document).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
  });
});

describe("the /docs page", () => {
  it("has a section for every operation", () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter(({ operation }) => sectionOf(operation.operationId) === "")).toEqual([]);
  });

  it("lists every parameter of every operation, with where it goes and whether it is required", () => {
    const missing = operations.flatMap(({ label, operation }) =>
      (operation.parameters ?? [])
        .filter(
          (parameter) =>
            !sectionOf(operation.operationId).includes(
              `<dt><code>${parameter.name}</code> (${parameter.in}, ${parameter.required ? "required" : "optional"})</dt>`,
            ),
        )
        .map((parameter) => `${label} ${parameter.name}`),
    );
    expect(missing).toEqual([]);
  });

  it("says who may call each operation: the token's scheme, or none for a public one", () => {
    const wrong = operations.filter(({ operation }) => {
      const section = sectionOf(operation.operationId);
      // Each requirement is an alternative: none (public), a bearer token, or a page session's cookie.
      const said = (requirement: Record<string, unknown>): string => {
        const [scheme] = Object.keys(requirement);
        if (scheme === undefined) return "none (public)";
        const cookie = PAGE_COOKIES[scheme];
        return cookie
          ? `<code>${scheme}</code> (cookie <code>${cookie}</code>)`
          : `<code>${scheme}</code> (bearer token)`;
      };
      const alternatives = operation.security.length === 0 ? ["none (public)"] : operation.security.map(said);
      return !alternatives.every((text) => section.includes(text)) || !section.includes("Authentication: ");
    });
    expect(wrong.map(({ label }) => label)).toEqual([]);
  });

  it("names the problem codes of every error response", () => {
    const missing = operations.flatMap(({ label, operation }) =>
      Object.entries(operation.responses).flatMap(([status, response]) => {
        const section = sectionOf(operation.operationId);
        const item = section.slice(section.indexOf(`<li><code>${status}</code>`));
        const listed = item.slice(0, item.indexOf("</li>"));
        return codesOf(response)
          .filter((code) => !listed.includes(`<code>${code}</code>`))
          .map((code) => `${label} ${status} ${code}`);
      }),
    );
    expect(
      operations.some(({ operation }) => Object.values(operation.responses).some((r) => codesOf(r).length > 0)),
    ).toBe(true);
    expect(missing).toEqual([]);
  });

  it("shows an admin-only operation's 403 with its code and a public upload's absent token", () => {
    expect(sectionOf("putSettings")).toContain("<li><code>403</code> The token is an organiser&#39;s");
    expect(sectionOf("putSettings")).toContain("Problem codes: <code>forbidden</code>.</li>");
    expect(sectionOf("createSubmission")).toContain("Authentication: none (public), or <code>submitterToken</code>");
  });
});

describe("the /docs page among the site's pages", () => {
  it("has the site's navigation, with the API reference as the current section", () => {
    expect(html).toContain(
      '<nav aria-label="Site"><a href="/">Leaderboard</a><a href="/submit">Submit a task</a><a href="/docs" aria-current="page">API</a></nav>',
    );
  });

  it("styles itself with the pages' stylesheet, nothing inline", () => {
    expect([html.includes('<link rel="stylesheet" href="/assets/pages.css"/>'), /<style|style=/.test(html)]).toEqual([
      true,
      false,
    ]);
  });

  it("is served under the pages' policy, allowing no script and no form", () => {
    expect(policy).toBe(
      "default-src 'none'; style-src http://isv.test/assets/pages.css; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });

  it("links every operation's section from its list of operations", () => {
    const contents = html.slice(html.indexOf('<nav aria-labelledby="operations-heading">'));
    const listed = contents.slice(0, contents.indexOf("</nav>"));
    const unlinked = operations.filter(({ operation }) => !listed.includes(`<a href="#${operation.operationId}">`));
    expect(unlinked.map(({ label }) => label)).toEqual([]);
  });

  it("describes each security scheme once, above the operations", () => {
    expect(html).toContain(
      '<dt id="scheme-organiserSession"><code>organiserSession</code> (cookie <code>isv_organiser</code>)</dt><dd>The review desk: set by POST /review/sign-in',
    );
    expect(html.split("The token returned when the submission was created.")).toHaveLength(2);
  });

  it("shows a description's backticked names as code", () => {
    expect(sectionOf("createSubmission")).toContain("parts, in either order: <code>metadata</code> (JSON");
  });
});
