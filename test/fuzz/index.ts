/** What `npm run fuzz` (scripts/fuzz.mjs) bundles and runs in a worker thread. */
export { BASE_SOURCES, loadBases } from "./corpus";
export { fuzzProperties } from "./properties";
export { failureReport, runProperty } from "./runner";
