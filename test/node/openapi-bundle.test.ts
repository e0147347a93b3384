import { describe, expect, it } from "vitest";
import { bundleSchemas, mergeComponents, openApiDocument } from "../../src/openapi";

describe("bundling the schema files into one document", () => {
  it("refuses two definitions that would be hoisted under one name", () => {
    const files = {
      "a.schema.json": { type: "object", $defs: { slope_test: { type: "number" }, slopeTest: { type: "string" } } },
    };
    expect(() => bundleSchemas(files)).toThrow("two schemas bundle under one name: ASlopeTest");
  });

  it("refuses a component named like one already there, rather than replacing it", () => {
    expect(() => mergeComponents({ Problem: { type: "object" } }, { Problem: { type: "string" } })).toThrow(
      "two components are named Problem",
    );
  });
});

describe("the served document", () => {
  it("lets the upload carry the owner's token, which reads a duplicate's full record", () => {
    expect(openApiDocument.paths["/v1/submissions"]?.post?.security).toEqual([{}, { submitterToken: [] }]);
  });

  it("lists the leaderboard page's filter parameters", () => {
    expect(openApiDocument.paths["/"]?.get?.parameters?.map((parameter) => parameter.name)).toEqual([
      "family",
      "verdict",
    ]);
  });
});
