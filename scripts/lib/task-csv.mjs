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

/** A seeded generator with the two draws the generators use: a list's element, and a shuffled copy of a list. */
export function seededDraws(seed) {
  const rand = random(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const shuffle = (list) => {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  };
  return { rand, pick, shuffle };
}

/** One CSV cell, quoted (pandas-style) only when it must be. */
export const cell = (value) =>
  /[",\n\r]/.test(String(value)) ? `"${String(value).replace(/"/g, '""')}"` : String(value);

export const csv = (header, rows) => `${[header, ...rows].map((row) => row.map(cell).join(",")).join("\n")}\n`;

/** A Python list literal of strings, as the prize's files wrote `classes`. */
export const pyList = (items) =>
  `[${items.map((item) => `'${item.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`).join(", ")}]`;
