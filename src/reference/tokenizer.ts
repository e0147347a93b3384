/**
 * The reference family's tokenizer. Text is split as GPT-2 splits it before BPE (a word carries its leading space,
 * so " Yes" is one piece), then each piece is one token when it is in the vocabulary, or falls back to single
 * characters, and a character outside the vocabulary to its UTF-8 bytes. So any text tokenizes, and the vocabulary
 * is finite, which lets every distribution be normalised over it.
 */

export interface Token {
  id: number;
  /** The token as the OpenAI API shows it: its text, or "bytes:\xNN" for a byte of a character split into bytes. */
  text: string;
  /** Offset of the token's first character in the text (UTF-16 code units, as JavaScript and the API count). */
  offset: number;
}

/** GPT-2's pre-tokenizer pattern (contractions, words with an optional leading space, numbers, punctuation, spaces). */
const PIECES = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const BYTE_TOKENS = Array.from({ length: 256 }, (_, byte) => `bytes:\\x${byte.toString(16).padStart(2, "0")}`);

export class Tokenizer {
  readonly vocabulary: readonly string[];
  private readonly ids: Map<string, number>;
  private readonly firstByteId: number;

  /** Words seen at least `minCount` times in the corpus become tokens, besides every ASCII character and byte. */
  static fromCorpus(corpus: string, minCount = 2): Tokenizer {
    const counts = new Map<string, number>();
    for (const piece of corpus.match(PIECES) ?? []) counts.set(piece, (counts.get(piece) ?? 0) + 1);
    const words = [...counts].filter(([piece, count]) => count >= minCount && piece.length > 1).map(([piece]) => piece);
    return new Tokenizer(words.sort());
  }

  private constructor(words: string[]) {
    const characters = ["\t", "\n", "\r", ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i))];
    const vocabulary = [...new Set([...characters, ...words])];
    this.firstByteId = vocabulary.length;
    this.vocabulary = [...vocabulary, ...BYTE_TOKENS];
    this.ids = new Map(vocabulary.map((token, id) => [token, id]));
  }

  get size(): number {
    return this.vocabulary.length;
  }

  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** A token's entry in the vocabulary: its text, or "bytes:\xNN" for a byte token. */
  textOf(id: number): string {
    const text = this.vocabulary[id];
    if (text === undefined) throw new RangeError(`token id ${id} is outside the vocabulary of ${this.size}`);
    return text;
  }

  encode(text: string): Token[] {
    const tokens: Token[] = [];
    for (const match of text.matchAll(PIECES)) {
      const piece = match[0];
      const start = match.index;
      const whole = this.ids.get(piece);
      if (whole !== undefined) {
        tokens.push({ id: whole, text: piece, offset: start });
        continue;
      }
      let offset = start;
      for (const character of piece) {
        const id = this.ids.get(character);
        if (id !== undefined) tokens.push({ id, text: character, offset });
        else
          for (const byte of new TextEncoder().encode(character))
            tokens.push({ id: this.firstByteId + byte, text: this.textOf(this.firstByteId + byte), offset });
        offset += character.length;
      }
    }
    return tokens;
  }

  /** The text of a generated token (a byte token decodes to its byte; callers join bytes with TextDecoder). */
  isByte(id: number): boolean {
    return id >= this.firstByteId;
  }

  byteOf(id: number): number {
    return id - this.firstByteId;
  }
}
