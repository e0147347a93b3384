// Shared by the fixture and corpus generators: a seeded random source and writers for the prize's CSV format.

/** mulberry32: a small seeded generator, so generated files are the same on every run. */
export function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One CSV cell, quoted (pandas-style) only when it must be. */
export const cell = (value) =>
  /[",\n\r]/.test(String(value)) ? `"${String(value).replace(/"/g, '""')}"` : String(value);

export const csv = (header, rows) => `${[header, ...rows].map((row) => row.map(cell).join(",")).join("\n")}\n`;

/** A Python list literal of strings, as the prize's files wrote `classes`. */
export const pyList = (items) =>
  `[${items.map((item) => `'${item.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`).join(", ")}]`;
