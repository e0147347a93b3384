import { at } from "../src/analysis/checked";

/** Deterministic benchmark input: prize-style classification rows (pandas index, multi-line prompt, Python list). */
export function benchmarkRows(count: number, startIndex = 0): string {
  const names = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro"];
  const things = ["apples", "books", "coins", "stamps", "marbles", "pencils"];
  let out = "";
  for (let i = startIndex; i < startIndex + count; i++) {
    const name = at(names, i % names.length);
    const thing = at(things, (i >> 3) % things.length);
    const a = 2 + (i % 97);
    const b = 1 + ((i * 7) % 89);
    const answer = i % 3;
    const options = [a + b, a + b + 1, a + b - 1].map((n) => `' ${n}'`);
    [options[0], options[answer]] = [at(options, answer), at(options, 0)];
    out += `${i},"Q: ${name} (case ${i}) has ${a} ${thing} in a box and is given ${b} more by a friend who says ""keep them"".\nHow many ${thing} does ${name} have now?\nA:","[${options.join(", ")}]",${answer}\n`;
  }
  return out;
}

export const BENCH_HEADER = ",prompt,classes,answer_index\n";
