// `isv analyse` as bin/isv.mjs runs it, for the benchmark: node cli-child.mjs CLI.mjs ARGS...
// Prints the exit status and the process's peak RSS as one JSON line; the analysis itself is not printed.
import { pathToFileURL } from "node:url";

const [cli, ...args] = process.argv.slice(2);
const { main } = await import(pathToFileURL(cli).href);
const errors = [];
const code = await main(
  args,
  () => {},
  (text) => errors.push(text),
);
console.log(JSON.stringify({ code, errors, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
