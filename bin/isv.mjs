#!/usr/bin/env node
// Entry for `npx isv`: dist/isv.mjs is built from src/cli/ by `npm run build:cli` (run on install by `prepare`).
import { main } from "../dist/isv.mjs";

process.exitCode = await main(process.argv.slice(2), (text) => console.log(text), (text) => console.error(text));
