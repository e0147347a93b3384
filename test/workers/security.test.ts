import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/openapi";
import {
  VALID_METADATA,
  call,
  postDecision,
  fetchSubmission,
  lambadaVariant,
  problemOf,
  submit,
  token,
  postGpt3Results,
} from "./helpers";
import { defined } from "../defined";

/**
 * Security suites for every route, driven by the OpenAPI document so a new route cannot skip them: tokens,
 * other people's ids, tampered ids, oversized bodies and hostile text.
 */
interface Operation {
  method: string;
  path: string;
  security?: Record<string, unknown>[];
  requestBody?: { content: Record<string, unknown> };
  parameters?: { name: string; in: string; schema?: { type?: string; minimum?: number; maximum?: number } }[];
}

const operations: Operation[] = Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
  Object.entries(item as Record<string, Omit<Operation, "method" | "path">>).map(([method, operation]) => ({
    ...operation,
    method: method.toUpperCase(),
    path,
  })),
);
/** Operations that require `scheme`: an empty requirement beside it makes the token optional (the upload's). */
const guardedBy = (scheme: string) =>
  operations.filter(
    (operation) =>
      operation.security?.some((entry) => scheme in entry) &&
      !operation.security.some((entry) => Object.keys(entry).length === 0),
  );
/** The submitters' pages answer errors as pages (text/html), not problem+json. */
const isPage = (operation: Operation): boolean => !operation.path.startsWith("/v1/");
const organiserRoutes = guardedBy("organiserToken");
const submitterRoutes = guardedBy("submitterToken");
const label = (operation: Operation) => `${operation.method} ${operation.path}`;

/** A concrete URL for a documented path, with `id` (and harmless values for the other parameters). */
const concrete = (path: string, id: string): string =>
  path
    .replace("{id}", encodeURIComponent(id))
    .replace("{name}", "no-such-family")
    .replace("{file}", "no-such-model.csv");

const request = (operation: Operation, id: string, bearer?: string, body?: string) =>
  exports.default.fetch(`http://isv.test${concrete(operation.path, id)}`, {
    method: operation.method,
    headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    ...(body !== undefined && operation.method !== "GET" ? { body } : {}),
  });

async function ownTask(label: string): Promise<{ id: string; submitterToken: string }> {
  const response = await submit({ csv: lambadaVariant(label) });
  expect(response.status).toBe(201);
  return response.json();
}

describe("every organiser route", () => {
  it("is documented as organiser-only in the OpenAPI document (the suites below cover them all)", () => {
    expect(organiserRoutes.length).toBeGreaterThanOrEqual(15);
    expect(organiserRoutes.every((operation) => operation.path.startsWith("/v1/review/"))).toBe(true);
    expect(
      operations.filter(
        (operation) => operation.path.startsWith("/v1/review/") && !organiserRoutes.includes(operation),
      ),
    ).toEqual([]);
  });

  it.each(organiserRoutes.map((operation) => [label(operation), operation] as const))(
    "%s: 401 without a token or with an unknown one",
    async (_, operation) => {
      for (const bearer of [undefined, "isv_ot_not_a_real_token", "' OR '1'='1"]) {
        const response = await request(operation, crypto.randomUUID(), bearer, "{}");
        expect(response.status, `${label(operation)} with ${bearer ?? "no token"}`).toBe(401);
        expect((await problemOf(response)).code).toBe("unauthorized");
      }
    },
  );

  it("admin-only actions answer 403 to an organiser", async () => {
    const organiser = await token("organiser");
    const settings = await (await call("/v1/review/settings", organiser)).json<{ settings: unknown }>();
    expect(
      (
        await problemOf(
          await call("/v1/review/settings", organiser, { method: "PUT", body: JSON.stringify(settings.settings) }),
        )
      ).code,
    ).toBe("forbidden");
    const task = await ownTask("Reveal");
    expect((await problemOf(await call(`/v1/review/submissions/${task.id}?reveal=true`, organiser))).code).toBe(
      "forbidden",
    );
  });
});

describe("every submitter route", () => {
  const routes = submitterRoutes.map((operation) => [label(operation), operation] as const);

  it.each(routes)("%s: 401 without a token", async (_, operation) => {
    const mine = await ownTask("Mine");
    expect((await problemOf(await request(operation, mine.id, undefined, "{}"))).code).toBe("unauthorized");
  });

  it.each(routes)("%s: someone else's token gets the same 404 as an id that does not exist", async (_, operation) => {
    const mine = await ownTask("Mine");
    const theirs = await ownTask("Theirs");
    const crossed = await problemOf(await request(operation, mine.id, theirs.submitterToken, "{}"));
    const unknown = await problemOf(await request(operation, crypto.randomUUID(), theirs.submitterToken, "{}"));
    expect(crossed).toMatchObject({ status: 404, code: "submission_not_found" });
    expect({ ...unknown, requestId: undefined }).toEqual({ ...crossed, requestId: undefined });
  });

  it.each(routes)("%s: someone else's token changes nothing on the task it aimed at", async (_, operation) => {
    const mine = await ownTask("Mine");
    const theirs = await ownTask("Theirs");
    await request(operation, mine.id, theirs.submitterToken, "{}");
    expect(await (await fetchSubmission(mine.id, mine.submitterToken)).json()).toMatchObject({
      state: "valid",
      fileVersion: 1,
    });
  });
});

describe("tampered ids", () => {
  const hostileIds = [
    "' OR '1'='1",
    "1; DROP TABLE submissions; --",
    "../../../etc/passwd",
    "%2e%2e%2f",
    "<script>alert(1)</script>",
    "\u0000",
    "x".repeat(4000),
    "🙂",
  ];

  it.each(
    operations
      .filter((operation) => operation.path.includes("{id}") && !isPage(operation))
      .map((operation) => [label(operation), operation] as const),
  )("%s: a hostile id is a 4xx problem, never a 500, and storage is intact", async (_, operation) => {
    const bearer = operation.security?.some((entry) => "organiserToken" in entry)
      ? await token("admin")
      : "isv_st_guess";
    for (const id of hostileIds) {
      const response = await request(operation, id, bearer, "{}");
      expect(response.status, `${label(operation)} with id ${JSON.stringify(id.slice(0, 40))}`).toBeGreaterThanOrEqual(
        400,
      );
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    }
    const stored = defined(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM submissions").first<{ n: number }>(),
      "a count of submissions",
    );
    expect(stored.n).toBeGreaterThan(0);
  });

  it.each(
    operations
      .filter((operation) => operation.path.includes("{id}") && isPage(operation))
      .map((operation) => [label(operation), operation] as const),
  )(
    "%s: a hostile id is an answer below 500, never an error of the service, and storage is intact",
    async (_, operation) => {
      for (const id of hostileIds) {
        const response = await request(operation, id, undefined, "");
        expect(response.status, `${label(operation)} with id ${JSON.stringify(id.slice(0, 40))}`).toBeLessThan(500);
      }
      const stored = defined(
        await env.DB.prepare("SELECT COUNT(*) AS n FROM submissions").first<{ n: number }>(),
        "a count of submissions",
      );
      expect(stored.n).toBeGreaterThan(0);
    },
  );
});

describe("oversized bodies", () => {
  // A replaced task file may be a JSON array (a model-written evaluation): it is bounded by the file-size limit.
  it.each(
    operations
      .filter((operation) => operation.requestBody?.content["application/json"] && !operation.path.endsWith("/file"))
      .map((operation) => [label(operation), operation] as const),
  )("%s: a JSON body over 256 KiB is refused with 413 before it is read", async (_, operation) => {
    const task = await ownTask("Oversized");
    const bearer = operation.security?.some((entry) => "organiserToken" in entry)
      ? await token("admin")
      : task.submitterToken;
    const problem = await problemOf(
      await request(operation, task.id, bearer, JSON.stringify({ padding: "x".repeat(300 * 1024) })),
    );
    expect(problem).toMatchObject({ status: 413, code: "payload_too_large", limitBytes: 262144 });
  });

  it("POST /v1/submissions refuses a declared length over the file limit before reading the body", async () => {
    const problem = await problemOf(
      await exports.default.fetch("http://isv.test/v1/submissions", {
        method: "POST",
        body: "x",
        headers: { "content-type": "multipart/form-data; boundary=b", "content-length": String(200 * 1024 * 1024) },
      }),
    );
    expect(problem).toMatchObject({ status: 413, code: "payload_too_large" });
  });
});

describe("hostile text in every metadata field", () => {
  const hostile = (field: string) =>
    `'; DROP TABLE submissions; -- <script>alert("${field}")</script> {{7*7}} \${7*7} =cmd|' /C calc'!A0 \u202e`;
  const textFields = [
    "title",
    "description",
    "whyItMatters",
    "expectedInverseScaling",
    "correctBehaviour",
    "dataGeneration",
    "dataLicence",
  ] as const;

  const metadata = {
    ...VALID_METADATA,
    ...Object.fromEntries(textFields.map((field) => [field, hostile(field)])),
    authors: [{ name: hostile("author"), affiliation: hostile("affiliation"), agreesToBeNamed: true }],
  };
  let id: string;
  let submitterToken: string;
  let admin: string;

  beforeAll(async () => {
    const created = await submit({ csv: lambadaVariant("Hostile"), metadata });
    expect(created.status).toBe(201);
    ({ id, submitterToken } = await created.json<{ id: string; submitterToken: string }>());
    admin = await token("admin");
  });

  it("is returned to the submitter exactly", async () => {
    expect(await (await fetchSubmission(id, submitterToken)).json()).toMatchObject({ title: hostile("title") });
  });

  it("reaches organisers unchanged", async () => {
    const record = await (await call(`/v1/review/submissions/${id}?reveal=true`, admin)).json<{
      metadata: Record<string, unknown>;
    }>();
    expect(record.metadata).toMatchObject(metadata);
  });

  it("is stored as one row, whatever SQL it holds", async () => {
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM submissions WHERE id = ?1").bind(id).first<{ n: number }>())?.n,
    ).toBe(1);
  });

  describe("on the public page, once the task is accepted", () => {
    let page: string;

    beforeAll(async () => {
      await postGpt3Results(id, admin);
      expect((await postDecision(id, admin, "accept", hostile("note"))).status).toBe(200);
      page = await (await exports.default.fetch("http://isv.test/")).text();
    });

    it("is escaped in the title", () => {
      expect(page).toContain("&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;");
    });

    it("is escaped in the authors' names", () => {
      expect(page).toContain("&lt;script&gt;alert(&quot;author&quot;)&lt;/script&gt;");
    });

    it("never reaches the page as markup", () => {
      expect(page).not.toContain('<script>alert("');
    });

    it("is drawn in a plot served with a CSP that runs nothing and cannot be framed", async () => {
      const plot = await exports.default.fetch(`http://isv.test/v1/submissions/${id}/plot.svg`);
      expect({
        type: plot.headers.get("content-type"),
        csp: plot.headers.get("content-security-policy"),
        nosniff: plot.headers.get("x-content-type-options"),
      }).toEqual({
        type: "image/svg+xml; charset=utf-8",
        csp: "default-src 'none'; frame-ancestors 'none'",
        nosniff: "nosniff",
      });
    });
  });
});

describe("integer query parameters", () => {
  const integerParameters = operations.flatMap((operation) =>
    (operation.parameters ?? [])
      .filter((parameter) => parameter.in === "query" && parameter.schema?.type === "integer")
      .map((parameter) => [`${label(operation)} ?${parameter.name}`, operation, parameter] as const),
  );

  it("are documented (limit and before on the review list and the audit log)", () => {
    expect(integerParameters.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        "GET /v1/review/submissions ?limit",
        "GET /v1/review/audit ?limit",
        "GET /v1/review/audit ?before",
      ]),
    );
  });

  it.each(integerParameters)(
    "%s: a value that is not an integer, or out of range, is 400 invalid_query",
    async (_, operation, parameter) => {
      const admin = await token("admin");
      const { minimum, maximum } = parameter.schema ?? {};
      const values = [
        "1.5",
        "abc",
        "1e1",
        "0x10",
        " 2",
        "99999999999999999999",
        ...(minimum === undefined ? [] : [String(minimum - 1)]),
        ...(maximum === undefined ? [] : [String(maximum + 1)]),
      ];
      for (const value of values) {
        const url = `${concrete(operation.path, crypto.randomUUID())}?${parameter.name}=${encodeURIComponent(value)}`;
        const response = await call(url, admin);
        expect(await problemOf(response), `${label(operation)} ?${parameter.name}=${value}`).toMatchObject({
          status: 400,
          code: "invalid_query",
          parameter: parameter.name,
        });
      }
    },
  );

  it.each(integerParameters)("%s: an integer in range is accepted", async (_, operation, parameter) => {
    const admin = await token("admin");
    const value = parameter.schema?.minimum ?? 1;
    const response = await call(`${concrete(operation.path, crypto.randomUUID())}?${parameter.name}=${value}`, admin);
    expect(response.status).toBe(200);
  });
});

describe("security headers", () => {
  it.each(operations.map((operation) => [label(operation), operation] as const))(
    "%s: answers with X-Content-Type-Options: nosniff",
    async (_, operation) => {
      const response = await request(operation, crypto.randomUUID());
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    },
  );

  it.each(operations.map((operation) => [label(operation), operation] as const))(
    "%s: may not be framed (CSP frame-ancestors 'none')",
    async (_, operation) => {
      const response = await request(operation, crypto.randomUUID());
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    },
  );

  it("an unknown path's 404 has them too", async () => {
    const response = await exports.default.fetch("http://isv.test/no/such/path");
    expect({
      nosniff: response.headers.get("x-content-type-options"),
      csp: response.headers.get("content-security-policy"),
    }).toEqual({ nosniff: "nosniff", csp: "default-src 'none'; frame-ancestors 'none'" });
  });

  it("JSON answers get a CSP that allows nothing", async () => {
    const response = await exports.default.fetch("http://isv.test/v1/settings");
    expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it("the leaderboard page allows the pages' stylesheet and same-origin plots, nothing else", async () => {
    const response = await exports.default.fetch("http://isv.test/");
    expect(response.headers.get("content-security-policy")).toBe(
      "default-src 'none'; style-src http://isv.test/assets/pages.css; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });

  it("the API reference page allows the pages' stylesheet, nothing else", async () => {
    const response = await exports.default.fetch("http://isv.test/docs");
    expect(response.headers.get("content-security-policy")).toBe(
      "default-src 'none'; style-src http://isv.test/assets/pages.css; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });
});
