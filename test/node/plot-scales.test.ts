import { describe, expect, it } from "vitest";
import {
  canShareValueAxis,
  formatValueTick,
  logScaleRange,
  logTicks,
  padded,
  valueTicks,
} from "../../src/analysis/plot-scales";

const decades = (low: number, high: number) => logScaleRange([Math.log10(low), Math.log10(high)]);

describe("value ticks", () => {
  it("give a useful step on a small range: 7 ticks over 0.78 to 0.91, where steps of 0.05 gave 3", () => {
    expect(valueTicks({ low: 0.78, high: 0.91 }, 5)).toEqual({
      ticks: [0.78, 0.8, 0.82, 0.84, 0.86, 0.88, 0.9],
      step: 0.02,
    });
  });

  it("stay inside the range fitted to the data, with room around it", () => {
    expect(valueTicks(padded({ low: 0.66, high: 0.84 }), 5).ticks).toEqual([0.65, 0.7, 0.75, 0.8, 0.85]);
  });

  it("are written with the decimals their step needs, the same for every tick", () => {
    expect([0.65, 0.7, 0.75].map((tick) => formatValueTick(tick, 0.05))).toEqual(["0.65", "0.70", "0.75"]);
    expect([12, 13, 0].map((tick) => formatValueTick(tick, 1))).toEqual(["12", "13", "0"]);
    expect([0.0012, 0.0014].map((tick) => formatValueTick(tick, 0.0002))).toEqual(["0.0012", "0.0014"]);
    expect(formatValueTick(3e-6, 1e-6)).toBe("3e-6");
  });
});

describe("a value axis shared by panels", () => {
  it("is refused when one family's range is a twentieth of another's", () => {
    expect(
      canShareValueAxis([
        { low: 0.67, high: 0.82 },
        { low: 12, high: 15 },
      ]),
    ).toBe(false);
  });

  it("is allowed when every range covers at least 60% of their union", () => {
    expect(
      canShareValueAxis([
        { low: 0, high: 1 },
        { low: 0.5, high: 1.5 },
      ]),
    ).toBe(true);
  });

  it("is refused when one range covers less", () => {
    expect(
      canShareValueAxis([
        { low: 0, high: 1 },
        { low: 0.7, high: 1.7 },
      ]),
    ).toBe(false);
  });

  it("is never drawn for a single panel", () => {
    expect(canShareValueAxis([{ low: 0, high: 1 }])).toBe(false);
  });
});

describe("log scale ticks", () => {
  it("add 3s between decades when a wide panel has room: GPT-3's 350M to 175B", () => {
    expect(logTicks(decades(350e6, 175e9), 10)).toEqual([3e8, 1e9, 3e9, 1e10, 3e10, 1e11]);
  });

  it("keep to decades in a narrow panel", () => {
    expect(logTicks(decades(350e6, 175e9), 4)).toEqual([1e9, 1e10, 1e11]);
  });

  it("give more than 2 ticks over about one decade", () => {
    expect(logTicks(decades(125e6, 2.7e9), 4)).toEqual([1e8, 3e8, 1e9, 3e9]);
  });

  it("use round values of the scale over less than a factor of 2", () => {
    expect(logTicks(decades(1e9, 1.3e9), 4)).toEqual([8e8, 9e8, 1e9]);
  });

  it("are round values with no float noise at 10^24 training FLOPs", () => {
    expect(logTicks(decades(1.2e24, 1.4e24), 4)).toEqual([1e24, 1.2e24, 1.4e24, 1.6e24]);
  });

  it("skip decades evenly when there are more decades than room", () => {
    expect(logTicks({ low: 2, high: 14 }, 4)).toEqual([1e2, 1e6, 1e10, 1e14]);
  });
});
