import { describe, expect, it } from "vitest";
import { duplicateKeyPath } from "../../src/http/json-duplicate-keys";

describe("duplicateKeyPath", () => {
  it("finds nothing when every object's keys are unique", () => {
    expect(duplicateKeyPath('{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}')).toBeUndefined();
  });

  it("names a key given twice at the top level", () => {
    expect(duplicateKeyPath('{"title": "A", "title": "B"}')).toBe("title");
  });

  it("names a key given twice inside an array's object by its path", () => {
    expect(duplicateKeyPath('{"authors": [{"name": "A"}, {"name": "B", "name": "C"}]}')).toBe("authors[1].name");
  });

  it("compares keys as JSON decodes them", () => {
    expect(duplicateKeyPath('{"a": 1, "\\u0061": 2}')).toBe("a");
  });

  it("is not misled by keys, quotes and brackets inside string values", () => {
    expect(duplicateKeyPath('{"a": "\\"a\\": 1, {[", "b": "a"}')).toBeUndefined();
  });

  it("counts keys after a nested value as the outer object's", () => {
    expect(duplicateKeyPath('{"x": {"y": [1, {"z": 2}]}, "y": 1, "x": 3}')).toBe("x");
  });

  it("treats arrays of scalars and empty containers as having no keys", () => {
    expect(duplicateKeyPath('[1, "a", true, null, {}, [], {"a": [], "b": {}}]')).toBeUndefined();
  });

  it("handles nesting deeper than a recursive reader's stack", () => {
    const depth = 200_000;
    expect(duplicateKeyPath(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`)).toBeUndefined();
  });
});
