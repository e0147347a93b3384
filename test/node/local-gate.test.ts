import { describe, expect, it } from "vitest";
import { LocalGate } from "../../src/util/local-gate";

/** A call that finishes when the test says so, and records when it started. */
function heldCall(log: string[], name: string): { call: () => Promise<string>; finish: () => void } {
  let finish = (): void => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    call: async () => {
      log.push(`start ${name}`);
      await done;
      return name;
    },
    finish,
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("LocalGate", () => {
  it("runs at most its size at once and starts the waiting calls first in, first out", async () => {
    const log: string[] = [];
    const gate = new LocalGate(2);
    const calls = ["a", "b", "c", "d"].map((name) => heldCall(log, name));
    const results = calls.map(({ call }) => gate.run(call));
    await settle();
    expect(log).toEqual(["start a", "start b"]);
    calls[1]?.finish();
    await settle();
    expect(log).toEqual(["start a", "start b", "start c"]);
    calls[0]?.finish();
    calls[2]?.finish();
    calls[3]?.finish();
    expect(await Promise.all(results)).toEqual(["a", "b", "c", "d"]);
    expect(log).toEqual(["start a", "start b", "start c", "start d"]);
  });

  it("frees its place when a call fails", async () => {
    const gate = new LocalGate(1);
    await expect(gate.run(() => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(await gate.run(async () => "next")).toBe("next");
  });
});
