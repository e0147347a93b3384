import { beforeAll, describe, expect, it } from "vitest";
import numericCsv from "../../fixtures/tasks/valid/numeric.csv?raw";
import { VALID_METADATA, call, problemOf, submit, token as apiToken, uniqueVariant } from "./helpers";

const organiserToken = (): Promise<string> => apiToken("organiser");

describe("organiser routes for families and evaluations", () => {
  it("need a token", async () => {
    for (const [path, method] of [
      ["/v1/review/families", "GET"],
      ["/v1/review/families/x", "PUT"],
      [`/v1/review/evaluations/${crypto.randomUUID()}`, "GET"],
      [`/v1/review/submissions/${crypto.randomUUID()}/evaluations`, "POST"],
    ] as const) {
      expect((await call(path, undefined, { method })).status, `${method} ${path}`).toBe(401);
    }
  });

  describe("families", () => {
    // Registering is for admins (test/workers/provider-access.test.ts); reading is for organisers too.
    let token: string;
    let organiser: string;
    const name = `family-${crypto.randomUUID().slice(0, 8)}`;
    const definition = {
      name,
      adapter: "openai-completions",
      baseUrl: "https://api.example.org/v1",
      models: [
        { id: "small", parameters: 1e8 },
        { id: "large", parameters: 1e10 },
      ],
    };
    let registered: Response;

    beforeAll(async () => {
      [token, organiser] = await Promise.all([apiToken("admin"), organiserToken()]);
      registered = await call(`/v1/review/families/${name}`, token, {
        method: "PUT",
        body: JSON.stringify(definition),
      });
    });

    it("register a family", () => {
      expect(registered.status).toBe(200);
    });

    it("list a registered family, to an organiser", async () => {
      const listed = await (await call("/v1/review/families", organiser)).json<{ families: { name: string }[] }>();
      expect(listed.families.map((f) => f.name)).toContain(name);
    });

    it("refuse a family that breaks its schema, naming each problem", async () => {
      const broken = await problemOf(
        await call(`/v1/review/families/${name}`, token, {
          method: "PUT",
          body: JSON.stringify({ ...definition, models: [{ id: "only" }] }),
        }),
      );
      expect(broken.code).toBe("invalid_family");
      expect(broken.fields).toEqual(
        expect.arrayContaining([
          { field: "models", message: "must NOT have fewer than 2 items" },
          { field: "models[0].parameters", message: "is required" },
        ]),
      );
    });

    it("refuse a definition that names another family than its address", async () => {
      expect(
        (
          await problemOf(
            await call(`/v1/review/families/other`, token, { method: "PUT", body: JSON.stringify(definition) }),
          )
        ).code,
      ).toBe("invalid_family");
    });

    it("refuse a body that is not JSON (400)", async () => {
      expect(
        (
          await call(`/v1/review/families/${name}`, token, {
            method: "PUT",
            body: "not json",
            headers: { "content-type": "text/plain" },
          })
        ).status,
      ).toBe(400);
    });
  });

  describe("starting an evaluation", () => {
    let token: string;
    let id: string;
    const start = (submission: string, families: string[]) =>
      call(`/v1/review/submissions/${submission}/evaluations`, token, {
        method: "POST",
        body: JSON.stringify({ families }),
      });

    beforeAll(async () => {
      token = await organiserToken();
      const numeric = await submit({
        csv: uniqueVariant(numericCsv, () => "How many stones in jar 999? More or less than 10:,7,10"),
        metadata: { ...VALID_METADATA, taskType: "numeric" },
      });
      expect(numeric.status).toBe(201);
      ({ id } = await numeric.json<{ id: string }>());
    });

    it("refuse a numeric task (422), saying why", async () => {
      expect(await problemOf(await start(id, ["isv-reference"]))).toMatchObject({
        status: 422,
        code: "not_analysable",
        detail: "numeric tasks are not evaluated: their metric needs sampled generations",
      });
    });

    it("refuse a family that is not registered (400)", async () => {
      expect((await problemOf(await start(id, ["no-such-family"]))).code).toBe("bad_request");
    });

    it("refuse an unknown submission (404)", async () => {
      expect((await start(crypto.randomUUID(), ["isv-reference"])).status).toBe(404);
    });

    it("refuse an empty list of families, naming the field", async () => {
      expect((await problemOf(await start(id, []))).fields).toEqual([
        { field: "families", message: "must NOT have fewer than 1 items" },
      ]);
    });
  });
});
