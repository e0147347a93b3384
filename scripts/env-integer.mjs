// An integer setting from the environment, for the long-running scripts (fuzz, calibrate): a bad value stops the
// script with a message naming the variable, before any work starts.
export function integerFromEnv(name, fallback, min, max) {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`${name}=${text}: expected an integer from ${min} to ${max}`);
    process.exit(2);
  }
  return value;
}
