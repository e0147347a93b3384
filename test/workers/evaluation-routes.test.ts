import { describe, expect, it } from "vitest";
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

  it("register a family, list it, and refuse one that breaks the schema or names another family", async () => {
    const token = await organiserToken();
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
    expect(
      (await call(`/v1/review/families/${name}`, token, { method: "PUT", body: JSON.stringify(definition) })).status,
    ).toBe(200);
    const listed = await (await call("/v1/review/families", token)).json<{ families: { name: string }[] }>();
    expect(listed.families.map((f) => f.name)).toContain(name);
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
    expect(
      (
        await problemOf(
          await call(`/v1/review/families/other`, token, { method: "PUT", body: JSON.stringify(definition) }),
        )
      ).code,
    ).toBe("invalid_family");
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

  it("refuse to evaluate a numeric task (422), an unknown family (400) or an unknown submission (404)", async () => {
    const token = await organiserToken();
    const numeric = await submit({
      csv: uniqueVariant(numericCsv, () => "How many stones in jar 999? More or less than 10:,7,10"),
      metadata: { ...VALID_METADATA, taskType: "numeric" },
    });
    expect(numeric.status).toBe(201);
    const { id } = await numeric.json<{ id: string }>();
    const refused = await problemOf(
      await call(`/v1/review/submissions/${id}/evaluations`, token, {
        method: "POST",
        body: JSON.stringify({ families: ["isv-reference"] }),
      }),
    );
    expect(refused).toMatchObject({
      status: 422,
      code: "not_analysable",
      detail: "numeric tasks are not evaluated: their metric needs sampled generations",
    });
    expect(
      (
        await problemOf(
          await call(`/v1/review/submissions/${id}/evaluations`, token, {
            method: "POST",
            body: JSON.stringify({ families: ["no-such-family"] }),
          }),
        )
      ).code,
    ).toBe("bad_request");
    expect(
      (
        await call(`/v1/review/submissions/${crypto.randomUUID()}/evaluations`, token, {
          method: "POST",
          body: JSON.stringify({ families: ["isv-reference"] }),
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await problemOf(
          await call(`/v1/review/submissions/${id}/evaluations`, token, {
            method: "POST",
            body: JSON.stringify({ families: [] }),
          }),
        )
      ).fields,
    ).toEqual([{ field: "families", message: "must NOT have fewer than 1 items" }]);
  });
});
