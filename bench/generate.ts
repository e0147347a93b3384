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

/**
 * Shapes of file that once cost far more than their size, and the normal file they are compared with (the
 * rows above). Each is generated in pieces of text (ASCII, so characters are bytes), header first, until the file
 * has at least `minBytes` bytes, the same way under Node and inside workerd.
 */
export const SHAPES = {
  normal: "prize-style classification rows (the file the others are compared with)",
  wide: "rows of 1,000,000 empty fields (999,999 commas)",
  "quoted-1mb": "rows whose quoted, multi-line prompt is 1,000,000 bytes (just under the record limit)",
  "quoted-50mb": "one quoted field of 50 MB (a quote never closed, as far as the record limit can tell)",
  "stray-quotes": "rows of 1,000,000 bytes with a stray quote every 2 bytes",
  tiny: "rows of 7 to 12 bytes (`p123, c`)",
  blank: "blank lines (1 byte a row)",
} as const;
export type Shape = keyof typeof SHAPES;

export const isShape = (name: string): name is Shape => Object.hasOwn(SHAPES, name);

export function* shapePieces(shape: Shape, minBytes: number): Generator<string> {
  const header = shape === "tiny" || shape === "blank" ? "prompt,completion\n" : "prompt,classes,answer_index\n";
  yield shape === "normal" ? BENCH_HEADER : header;
  let bytes = shape === "normal" ? BENCH_HEADER.length : header.length;
  let row = 0;
  const emit = (piece: string): string => {
    bytes += piece.length;
    return piece;
  };
  switch (shape) {
    case "normal":
      for (; bytes < minBytes; row += 10_000) yield emit(benchmarkRows(10_000, row));
      return;
    case "wide":
      while (bytes < minBytes) yield emit(`${",".repeat(999_999)}\n`);
      return;
    case "quoted-1mb": {
      const line = (k: number): string => `Line ${k}: the quick brown fox jumps over the lazy dog, then "rests".\n`;
      for (; bytes < minBytes; row++) {
        let prompt = `Row ${row}.\n`;
        for (let k = 0; prompt.length < 990_000; k++) prompt += line(k);
        yield emit(`"${prompt.replaceAll('"', '""')}A:","[' a', ' b']",${row % 2}\n`);
      }
      return;
    }
    case "quoted-50mb":
      yield emit('"');
      while (bytes < minBytes) yield emit("a".repeat(1_000_000));
      yield emit('",x,0\n');
      return;
    case "stray-quotes":
      while (bytes < minBytes) yield emit(`"a${'"b'.repeat(499_990)}",x,0\n`);
      return;
    case "tiny":
      while (bytes < minBytes) {
        let batch = "";
        for (const end = row + 100_000; row < end; row++) batch += `p${row}, c\n`;
        yield emit(batch);
      }
      return;
    case "blank":
      while (bytes < minBytes) yield emit("\n".repeat(1_000_000));
      return;
  }
}
