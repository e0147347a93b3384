/**
 * Where each token of a scored text starts, from the token strings a server returns. Pure.
 *
 * Servers disagree on offsets: OpenAI's are character offsets; vLLM's are a running sum of token-string lengths,
 * which drift after any character split into byte pieces; TGI gives none. Token strings are the common ground:
 * a token that spells the text where the last one ended starts there. A character split into byte pieces is the
 * hard part. OpenAI writes such a piece as "bytes:\xNN…" (its bytes known); vLLM and TGI decode it alone, so it
 * reads U+FFFD, which may stand for 1 to 3 bytes. Where the bytes of each piece are known, each piece starts where
 * its first byte is; a piece that starts inside a character shares the offset of the token before it, so a class
 * whose first character is split across the prompt's last token is found not to start on a token boundary. Where
 * they are not known, every piece of the run takes the run's first offset: a boundary inside such a run cannot be
 * shown, so the example is flagged rather than scored on a guess.
 */

/** A token that is not whole characters of the text: its possible UTF-8 sizes, or undefined for whole text. */
function pieceWidth(token: string): { least: number; most: number } | undefined {
  if (token.startsWith("bytes:") && token.length > 6) {
    let bytes = 0;
    for (const part of token.slice(6).matchAll(/\\x[0-9a-fA-F]{2}|[\s\S]/gu))
      bytes += part[0].startsWith("\\x") && part[0].length === 4 ? 1 : utf8Length(part[0]);
    return { least: bytes, most: bytes };
  }
  if (!token.includes("\ufffd")) return undefined;
  let least = 0;
  let most = 0;
  for (const character of token) {
    if (character === "\ufffd") {
      least += 1;
      most += 3;
    } else {
      const bytes = utf8Length(character);
      least += bytes;
      most += bytes;
    }
  }
  return { least, most };
}

/** The code point at `at`, which the caller has checked is inside the text. */
function codePointAt(text: string, at: number): number {
  const point = text.codePointAt(at);
  if (point === undefined) throw new RangeError(`offset ${at} is outside a text of length ${text.length}`);
  return point;
}

function utf8Length(character: string): number {
  const point = codePointAt(character, 0);
  return point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
}

/** Each character of text[from, to) with its offset and the UTF-8 byte it starts at, counted from `from`. */
function characters(text: string, from: number, to: number): { offset: number; byte: number }[] {
  const list: { offset: number; byte: number }[] = [];
  let byte = 0;
  for (let at = from; at < to; ) {
    const character = String.fromCodePoint(codePointAt(text, at));
    list.push({ offset: at, byte });
    byte += utf8Length(character);
    at += character.length;
  }
  return list;
}

function byteLength(text: string, from: number, to: number): number {
  let bytes = 0;
  for (let at = from; at < to; ) {
    const character = String.fromCodePoint(codePointAt(text, at));
    bytes += utf8Length(character);
    at += character.length;
  }
  return bytes;
}

export interface Alignment {
  offsets: number[];
  /** False when the tokens do not spell out the text: no offset can be trusted, and the text is flagged. */
  aligned: boolean;
}

/**
 * The character offset (UTF-16, as JavaScript counts) of each token of `text`. The tokens are the text's own:
 * a server's generated tokens are removed before (see the adapters). A token not in the text is a special token
 * (a BOS) at the start, and anywhere else means the tokens do not spell the text out. An empty token carries the
 * later bytes of the character before it.
 */
export function alignOffsets(tokens: readonly string[], text: string): Alignment {
  const offsets: number[] = [];
  let aligned = true;
  let cursor = 0;
  let i = 0;
  for (let token = tokens[i]; token !== undefined; token = tokens[i]) {
    if (token === "") {
      offsets.push(offsets[i - 1] ?? cursor);
      i++;
    } else if (text.startsWith(token, cursor)) {
      offsets.push(cursor);
      cursor += token.length;
      i++;
    } else if (pieceWidth(token) === undefined) {
      if (!(i === 0 && cursor === 0)) aligned = false;
      offsets.push(cursor);
      i++;
    } else {
      const run = placeRun(tokens, i, text, cursor, offsets);
      if (!run) {
        aligned = false;
        while (offsets.length < tokens.length) offsets.push(cursor);
        break;
      }
      cursor = run.stop;
      i = run.end;
    }
  }
  return { offsets, aligned: aligned && cursor === text.length };
}

/**
 * Places a run of byte pieces starting at token `from`, and pushes their offsets. The run ends at the next token
 * that spells the text, found where the pieces' possible sizes allow; null when no such place exists.
 */
function placeRun(
  tokens: readonly string[],
  from: number,
  text: string,
  cursor: number,
  offsets: number[],
): { stop: number; end: number } | null {
  // The least UTF-8 size of each piece of the run (an empty token carries none).
  const sizes: number[] = [];
  let least = 0;
  let most = 0;
  for (const token of tokens.slice(from)) {
    const width = token === "" ? { least: 0, most: 0 } : pieceWidth(token);
    if (!width) break;
    sizes.push(width.least);
    least += width.least;
    most += width.most;
  }
  const end = from + sizes.length;
  const next = tokens[end];
  let stop = -1;
  if (next === undefined) {
    const bytes = byteLength(text, cursor, text.length);
    if (bytes >= least && bytes <= most) stop = text.length;
  } else {
    for (let at = text.indexOf(next, cursor); at !== -1; at = text.indexOf(next, at + 1)) {
      const bytes = byteLength(text, cursor, at);
      if (bytes > most) break;
      if (bytes >= least) {
        stop = at;
        break;
      }
    }
  }
  if (stop === -1) return null;
  const span = characters(text, cursor, stop);
  // Sizes are known when they add up to the span exactly with every U+FFFD counted as one byte.
  const known = least === byteLength(text, cursor, stop);
  let byte = 0;
  for (const [j, size] of sizes.entries()) {
    const starts = known ? span.find((character) => character.byte === byte) : j === 0 ? span[0] : undefined;
    offsets.push(starts ? starts.offset : (offsets[from + j - 1] ?? cursor));
    byte += size;
  }
  return { stop, end };
}
