/**
 * Runs inside workerd (through Miniflare): times papaparse's raw parse and the full validation of an R2 object.
 * workerd's clock advances only across I/O, so each measured section is bracketed by an awaited R2 head().
 * /load writes the benchmark file into R2 from the same generator the Node side uses (identical bytes), as a
 * multipart upload, so a 100 MB input never crosses the local proxy or sits in memory.
 */
import Papa from "papaparse";
import { validateStream } from "../src/validate/validator";
import { BENCH_HEADER, benchmarkRows, isShape, shapePieces } from "./generate";

interface BenchEnv {
  BENCH: R2Bucket;
}

const KEY = "bench.csv";
const PART_BYTES = 5 * 1024 * 1024;

/** The benchmark rows, then at least `minBytes` bytes: the same rule as bench/validation.mjs uses under Node. */
function* normalPieces(rows: number, minBytes: number): Generator<string> {
  yield BENCH_HEADER;
  let bytes = BENCH_HEADER.length;
  for (let made = 0; made < rows || bytes < minBytes; made += 10_000) {
    const batch = benchmarkRows(10_000, made);
    bytes += new TextEncoder().encode(batch).length;
    yield batch;
  }
}

async function load(bucket: R2Bucket, pieces: Iterable<string>): Promise<Response> {
  const encoder = new TextEncoder();
  const upload = await bucket.createMultipartUpload(KEY);
  const parts: R2UploadedPart[] = [];
  let pending = new Uint8Array(0);
  let written = 0;
  let rows = 0;
  const flush = async (final: boolean): Promise<void> => {
    while (pending.length >= PART_BYTES || (final && pending.length > 0)) {
      const size = Math.min(PART_BYTES, pending.length);
      parts.push(await upload.uploadPart(parts.length + 1, pending.slice(0, size)));
      written += size;
      pending = pending.slice(size);
    }
  };
  for (const piece of pieces) {
    const batch = encoder.encode(piece);
    rows += piece === BENCH_HEADER ? 0 : 10_000;
    const joined = new Uint8Array(pending.length + batch.length);
    joined.set(pending);
    joined.set(batch, pending.length);
    pending = joined;
    await flush(false);
  }
  await flush(true);
  await upload.complete(parts);
  return Response.json({ rows, bytes: written });
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    const mode = url.pathname.slice(1);
    const minBytes = Number(url.searchParams.get("minBytes") ?? 0);
    if (mode === "load") return load(env.BENCH, normalPieces(Number(url.searchParams.get("rows") ?? 0), minBytes));
    // Shapes are loaded and checked under the limits given (bench/shapes.mjs), valid or not.
    const shape = url.searchParams.get("shape") ?? "";
    if (mode === "load-shape" && isShape(shape)) return load(env.BENCH, shapePieces(shape, minBytes));
    await env.BENCH.head(KEY);
    const started = Date.now();
    let rows = 0;
    const object = await env.BENCH.get(KEY);
    if (!object) return new Response("no benchmark object", { status: 500 });
    if (mode === "raw-string") {
      rows = Papa.parse<string[]>(await object.text()).data.length - 1;
    } else if (mode === "check") {
      const report = await validateStream(object.body, { limits: JSON.parse(url.searchParams.get("limits") ?? "{}") });
      await env.BENCH.head(KEY);
      const ms = Date.now() - started;
      return Response.json({ mode, ms, rows: report.stats.records, bytes: object.size, counts: report.counts });
    } else {
      const report = await validateStream(object.body, { limits: { maxRows: 10_000_000, maxBytes: 1 << 30 } });
      if (!report.valid) return new Response(JSON.stringify(report.counts), { status: 500 });
      rows = report.stats.examples;
    }
    await env.BENCH.head(KEY);
    return Response.json({ mode, ms: Date.now() - started, rows, bytes: object.size });
  },
};
