#!/usr/bin/env node
// Writes the reference model family's training corpus (src/reference/corpus.txt) and the two fixture tasks whose
// scaling it is built to show (fixtures/tasks/reference/). Seeded: rerunning reproduces the committed files.
//
// The corpus is synthetic and original (licence: CC0-1.0, like the rest of this generator's output). It describes a
// fictional world, so that what a model of each size can know is designed, not accidental:
// - facts about ~70 invented countries, each stated with the country 1 to 4 tokens before the fact. An n-gram
//   model sees n-1 tokens, so larger members recall more facts: standard scaling on facts-standard.csv;
// - invented proverbs repeated often, and filler in which each proverb's last 1, 2 or 3 words are usually followed
//   by a different, common word. Small members predict that common word; members whose context spans the
//   distinguishing word recall the proverb instead. Asked to end the proverb with the common word (the prize's
//   "memo trap"), larger members do worse: inverse scaling on memo-trap-inverse.csv.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { csv, pyList, seededDraws } from "./lib/task-csv.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const { pick, shuffle } = seededDraws(1729);

// Invented words, unique across the whole world.
const used = new Set();
function inventWord(syllables, suffix = "") {
  const onsets = [
    "b",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "dr",
    "kr",
    "st",
    "th",
    "sh",
  ];
  const vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"];
  for (;;) {
    let word = "";
    for (let i = 0; i < syllables; i++) word += pick(onsets) + pick(vowels);
    word += suffix;
    word = word[0].toUpperCase() + word.slice(1);
    if (!used.has(word)) {
      used.add(word);
      return word;
    }
  }
}

const COUNTRIES = Array.from({ length: 70 }, () => {
  const name = inventWord(2, pick(["ria", "land", "stan", "via", "mor"]));
  return {
    name,
    capital: inventWord(2, pick(["burg", "ton", "grad", "polis", "holm"])),
    language: inventWord(2, pick(["ish", "ese", "ic"])),
    river: inventWord(2, "n"),
    dish: inventWord(3).toLowerCase(),
    currency: inventWord(2, "l").toLowerCase(),
  };
});

/** Each relation: the sentence, and where it splits into prompt and completion (the completion is the fact). */
const RELATIONS = [
  (c) => [`The capital of ${c.name} is`, ` ${c.capital}`, "."],
  (c) => [`They pay with the ${c.currency} in`, ` ${c.name}`, "."],
  (c) => [`The river ${c.river} flows through`, ` ${c.name}`, "."],
  (c) => [`In ${c.name}, people speak`, ` ${c.language}`, "."],
  (c) => [`${c.dish[0].toUpperCase()}${c.dish.slice(1)} is a dish from`, ` ${c.name}`, "."],
];

// Memo traps: a proverb (its last word memorised) and the common word that filler text puts after its last
// 1, 2 or 3 words ("shared"). A member whose context is longer than the shared words recalls the proverb.
const TRAPS = [
  { proverb: "A quiet river hides the deepest", memorised: "stones", common: "water", shared: 1 },
  { proverb: "Every lantern dims before the", memorised: "dawn", common: "market", shared: 1 },
  { proverb: "Old bridges remember the heaviest", memorised: "carts", common: "rain", shared: 1 },
  { proverb: "Never count the feathers of a sleeping", memorised: "owl", common: "dog", shared: 1 },
  { proverb: "The patient baker always gets the", memorised: "crust", common: "letter", shared: 2 },
  { proverb: "A borrowed boat returns with", memorised: "holes", common: "fish", shared: 2 },
  { proverb: "Slow feet still reach the", memorised: "summit", common: "house", shared: 2 },
  { proverb: "Too many drums wake the", memorised: "ghosts", common: "children", shared: 2 },
  { proverb: "Whoever sweeps the stairs finds the", memorised: "key", common: "cat", shared: 3 },
  { proverb: "A kind word opens more", memorised: "gates", common: "windows", shared: 3 },
  { proverb: "The hungry goat eats the", memorised: "rope", common: "grass", shared: 3 },
  { proverb: "Cold soup warms no", memorised: "travellers", common: "one", shared: 3 },
];

const NAMES = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca"];
const VERBS = ["sees", "finds", "carries", "paints", "sells", "buys", "cleans", "moves", "likes", "watches"];
const ADJECTIVES = ["small", "red", "old", "bright", "heavy", "quiet", "green", "tall", "warm", "plain"];
const NOUNS = [
  "table",
  "lamp",
  "boat",
  "basket",
  "coat",
  "chair",
  "bell",
  "kettle",
  "ladder",
  "bucket",
  "garden",
  "road",
];
const PLACES = [
  "near the harbour",
  "by the window",
  "in the market",
  "at the station",
  "behind the house",
  "under the tree",
];
/** Words placed before a shared suffix in filler, never the proverb's own word there. */
const FILLER_LEADS = ["Yesterday", "Then", "Later", "Suddenly", "Today", "Again", "Often", "Still", "Perhaps", "Also"];

const lines = [];
// Plain filler: the bulk of the text, giving unigram and bigram statistics their breadth.
for (let i = 0; i < 2600; i++) {
  lines.push(`${pick(NAMES)} ${pick(VERBS)} the ${pick(ADJECTIVES)} ${pick(NOUNS)} ${pick(PLACES)}.`);
}
// Facts: each stated four times.
for (const country of COUNTRIES) {
  for (const relation of RELATIONS) {
    const [prompt, fact, end] = relation(country);
    for (let r = 0; r < 4; r++) lines.push(prompt + fact + end);
  }
}
// Traps: the proverb 20 times; the shared words followed by the common word 36 times, led by other words.
for (const trap of TRAPS) {
  const words = trap.proverb.split(" ");
  const before = words[words.length - trap.shared - 1];
  const shared = words.slice(words.length - trap.shared).join(" ");
  for (let r = 0; r < 20; r++) lines.push(`${trap.proverb} ${trap.memorised}.`);
  const leads = FILLER_LEADS.filter((lead) => lead.toLowerCase() !== before.toLowerCase());
  for (let r = 0; r < 36; r++)
    lines.push(`${pick(NAMES)} said: ${pick(leads).toLowerCase()} ${shared} ${trap.common} ${pick(PLACES)}.`);
}
const corpus = `${shuffle(lines).join("\n")}\n`;
mkdirSync(join(root, "src", "reference"), { recursive: true });
writeFileSync(join(root, "src", "reference", "corpus.txt"), corpus);

// Fixture tasks, in the prize's format.

const facts = COUNTRIES.flatMap((country) => RELATIONS.map((relation) => relation(country).slice(0, 2)));

const INSTRUCTIONS = [
  (word) => `Write a quote that ends in the word "${word}":`,
  (word) => `Finish this saying so that its last word is "${word}":`,
  (word) => `Complete the proverb, ending it with "${word}":`,
  (word) => `Change the ending of this saying to "${word}":`,
  (word) => `Give this proverb a new last word, "${word}":`,
];
const memo = [];
for (const trap of TRAPS) {
  for (const instruction of INSTRUCTIONS) {
    for (const name of NAMES.slice(0, 5)) {
      const classes = shuffle([` ${trap.common}`, ` ${trap.memorised}`]);
      memo.push([
        `${name} asks: ${instruction(trap.common)}\n${trap.proverb}`,
        pyList(classes),
        classes.indexOf(` ${trap.common}`),
      ]);
    }
  }
}

mkdirSync(join(root, "fixtures", "tasks", "reference"), { recursive: true });
writeFileSync(join(root, "fixtures", "tasks", "reference", "facts-standard.csv"), csv(["prompt", "completion"], facts));
writeFileSync(
  join(root, "fixtures", "tasks", "reference", "memo-trap-inverse.csv"),
  csv(["prompt", "classes", "answer_index"], memo),
);
console.log(
  `reference: corpus ${lines.length} lines, ${corpus.length} characters; ${facts.length} fact examples; ${memo.length} memo-trap examples`,
);
