/**
 * Reads a JSON column. Every JSON column holds a value this service wrote with JSON.stringify after validating it
 * (against its schema, or as a value the code built), and migrations rewrite columns whose shape changes; so the
 * type is the writer's, and this is the one place a stored value is trusted without a second validation.
 */
export const readStoredJson = <T>(json: string): T => JSON.parse(json) as T;
