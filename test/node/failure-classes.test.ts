import { describe, expect, it } from "vitest";
import { UNCLASSIFIED, failureClassOf, failureText } from "../../src/evaluate/failure-classes";

describe("a shard's stored failure", () => {
  it("is its class, then the service's sentence", () => {
    expect(failureText("provider_server_error", "the provider answered HTTP 503")).toBe(
      "provider_server_error: the provider answered HTTP 503",
    );
  });

  it("gives its class back, whatever follows it", () => {
    expect(failureClassOf("provider_server_error: the provider answered HTTP 503 (gave up after 8 attempts)")).toBe(
      "provider_server_error",
    );
  });

  it("is unclassified when written before failures had classes, so its text is never shown", () => {
    expect(failureClassOf("the provider answered 404: The model `x` does not exist.")).toBe(UNCLASSIFIED);
  });

  it("is unclassified when there is none", () => {
    expect(failureClassOf(null)).toBe(UNCLASSIFIED);
  });
});
