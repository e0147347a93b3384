/**
 * JSON.parse keeps the last of two equal keys in an object and says nothing, so `{"title": "A", "title": "B"}`
 * reads as "B" here and may read as "A" elsewhere. This finds the first key given twice in one object, at any
 * depth, in text that JSON.parse has already accepted; keys are compared as JSON.parse decodes them ("a" and
 * "\u0061" are one key). Iterative, so deep nesting cannot exhaust the stack.
 *
 * Returns the key's path as field problems name fields ("authors[0].name"), or undefined when every key is unique.
 */
export function duplicateKeyPath(json: string): string | undefined {
  type Frame =
    | { kind: "object"; keys: Set<string>; key: string; expectingKey: boolean }
    | { kind: "array"; index: number };
  const stack: Frame[] = [];
  // The path is spelled out only for the answer: building it per level would cost the square of the depth.
  const pathTo = (key: string): string =>
    stack.reduce(
      (path, frame, depth) =>
        depth === stack.length - 1
          ? joinKey(path, key)
          : frame.kind === "object"
            ? joinKey(path, frame.key)
            : `${path}[${frame.index}]`,
      "",
    );

  let i = 0;
  while (i < json.length) {
    const char = json[i];
    if (char === "{") {
      stack.push({ kind: "object", keys: new Set(), key: "", expectingKey: true });
      i++;
    } else if (char === "[") {
      stack.push({ kind: "array", index: 0 });
      i++;
    } else if (char === "}" || char === "]") {
      stack.pop();
      i++;
    } else if (char === ",") {
      const top = stack.at(-1);
      if (top?.kind === "object") top.expectingKey = true;
      else if (top?.kind === "array") top.index++;
      i++;
    } else if (char === '"') {
      const end = stringEnd(json, i);
      const top = stack.at(-1);
      if (top?.kind === "object" && top.expectingKey) {
        const key = decodeKey(json.slice(i, end));
        if (top.keys.has(key)) return pathTo(key);
        top.keys.add(key);
        top.key = key;
        top.expectingKey = false;
      }
      i = end;
    } else {
      // Whitespace, ':' and the characters of numbers, true, false and null carry no keys.
      i++;
    }
  }
  return undefined;
}

/** The index just past the closing quote of the string that opens at `start`. */
function stringEnd(json: string, start: number): number {
  let i = start + 1;
  while (i < json.length) {
    const char = json[i];
    if (char === "\\") i += 2;
    else if (char === '"') return i + 1;
    else i++;
  }
  return json.length;
}

function decodeKey(quoted: string): string {
  try {
    const key: unknown = JSON.parse(quoted);
    return typeof key === "string" ? key : quoted;
  } catch {
    return quoted; // not JSON after all; the caller's parser reports that
  }
}

function joinKey(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
