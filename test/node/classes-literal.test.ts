import { describe, expect, it } from "vitest";
import { parseClassesLiteral } from "../../src/validate/classes-literal";

describe("classes literal parser", () => {
  it.each([
    [`[' Yes', ' No']`, [" Yes", " No"]],
    [`[" Yes", " No"]`, [" Yes", " No"]],
    [`[ ' a' , " b" , ]`, [" a", " b"]],
    [`[' it\\'s', " say \\"hi\\""]`, [" it's", ' say "hi"']],
    [`[' tab\\there', ' new\\nline', ' back\\\\slash']`, [" tab\there", " new\nline", " back\\slash"]],
    [`[' caf\\xe9', ' \\u00e9t\\u00e9', ' \\U0001F600', ' \\101']`, [" café", " été", " 😀", " A"]],
    [`[' 日本語', ' émoji 🎉']`, [" 日本語", " émoji 🎉"]],
    [`[u' unicode', r' raw\\n']`, [" unicode", " raw\\n"]],
    [`[' con' 'cat', '''triple 'quoted' ''']`, [" concat", "triple 'quoted' "]],
    [`[" A", " B", " C", " D", " E"]`, [" A", " B", " C", " D", " E"]],
    [`["\\/"]`, ["\\/"]],
    [`[]`, []],
  ])("%s", (text, expected) => {
    expect(parseClassesLiteral(text)).toEqual({ ok: true, classes: expected });
  });

  it.each([
    [`' Yes', ' No'`, "expected a list", 0],
    [`(' Yes', ' No')`, "a tuple", 0],
    [`[' Yes', ' No'`, "not closed", 14],
    [`[' Yes' ' No`, "never closed", 8],
    [`[' Yes', 1]`, "expected a quoted string", 9],
    [`[' Yes'] extra`, "after the closing", 9],
    [`[b' bytes']`, "bytes literals", 1],
    [`[' \\x4']`, "2 hexadecimal digits", 3],
    [`[' \\N{DASH}']`, "named escapes", 3],
  ])("rejects %s", (text, message, offset) => {
    const result = parseClassesLiteral(text);
    expect(result).toMatchObject({ ok: false, offset });
    expect(result.ok ? "" : result.message).toContain(message);
  });
});
