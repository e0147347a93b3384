import type { SubmissionMetadata } from "../generated/types";
import type { ValidationLimits, ValidationReport } from "./report";
import type { Example } from "./row-rules";
import { resolveTaskType } from "./task-types";
import { quoted } from "./text";
import { TaskFileValidator } from "./validator";
import { MweFileValidator } from "./mwe/validator";
import { DEFAULT_PROMPT_TEMPLATE, parsePromptTemplate, type PromptTemplate } from "./mwe/template";
import { feedStream } from "./event-loop";

/**
 * A task file's format: the prize's CSV, or a model-written evaluation (mwe). Either is declared in the metadata
 * or read from the file's first byte that is not whitespace or a BOM: `{` or `[` for mwe, anything else for CSV.
 */
export type TaskFileFormat = "csv" | "mwe";

/** What the bytes are, as storage names them: a CSV, JSON Lines, or one JSON array. */
export type TaskFileKind = "csv" | "jsonl" | "json_array";

export type BehaviourSettings = Required<NonNullable<SubmissionMetadata["behaviour"]>>;

/** What a behaviour task records when its metadata leaves a setting out. */
export const DEFAULT_BEHAVIOUR: BehaviourSettings = {
  matchingBehaviour: "undesired",
  promptTemplate: DEFAULT_PROMPT_TEMPLATE,
};

/** The behaviour settings in force: the metadata's, defaults filled in. */
export function behaviourSettings(metadata: Pick<SubmissionMetadata, "behaviour">): BehaviourSettings {
  return { ...DEFAULT_BEHAVIOUR, ...metadata.behaviour };
}

/** How the metadata says to read the file, checked before any of it is read. */
export interface FormatChoice {
  /** The declared format; absent, the file's first byte decides. */
  format?: TaskFileFormat;
  /** The prompt template, used if the file is a model-written evaluation. */
  template: PromptTemplate;
  /** The metadata has behaviour settings: a CSV with them is refused (format_mismatch). */
  behaviourGiven: boolean;
}

export type FormatChoiceResult =
  | { ok: true; choice: FormatChoice }
  | { ok: false; fields: { field: string; message: string }[] };

/**
 * Reads the metadata's format, task type and behaviour settings, refusing what contradicts itself before the file
 * is read (a CSV format with behaviour settings or the behaviour type, an mwe format with a CSV type) and a
 * template that is not one. A task type that does not fit the file's detected format is the report's to say.
 */
export function readFormatChoice(
  metadata: Pick<SubmissionMetadata, "format" | "taskType" | "behaviour">,
): FormatChoiceResult {
  const fields: { field: string; message: string }[] = [];
  const { format, taskType, behaviour } = metadata;
  const resolved = taskType === undefined ? undefined : resolveTaskType(taskType);
  const declaredType = resolved?.ok ? resolved.taskType : undefined;
  if (format === "csv" && behaviour !== undefined)
    fields.push({ field: "behaviour", message: 'applies only to format "mwe" (a model-written evaluation)' });
  if (format === "csv" && declaredType === "behaviour")
    fields.push({ field: "taskType", message: 'behaviour is the type of format "mwe" files, not of a CSV' });
  if (format === "mwe" && declaredType !== undefined && declaredType !== "behaviour")
    fields.push({
      field: "taskType",
      message: `${declaredType} is a CSV type; format "mwe" files are behaviour tasks`,
    });
  if (format === undefined && behaviour !== undefined && declaredType !== undefined && declaredType !== "behaviour")
    fields.push({
      field: "behaviour",
      message: `applies only to a model-written evaluation, whose type is behaviour, not ${declaredType}`,
    });
  const parsed = parsePromptTemplate(behaviourSettings(metadata).promptTemplate);
  if (!parsed.ok) fields.push({ field: "behaviour.promptTemplate", message: parsed.message });
  if (fields.length > 0 || !parsed.ok) return { ok: false, fields };
  return {
    ok: true,
    choice: { ...(format ? { format } : {}), template: parsed.template, behaviourGiven: behaviour !== undefined },
  };
}

export interface TaskFileOptions {
  /** The submitter's task type name (aliases accepted). */
  taskType?: string;
  limits?: Partial<ValidationLimits>;
  /** The metadata's reading of the file; absent, as for metadata that says nothing about it. */
  choice?: FormatChoice;
  /** Receives each valid example in file order. */
  onExample?: (example: Example) => void;
}

/** Leading whitespace held before the format is known; past it, the declared format (or CSV) is assumed. */
const MAX_HELD_BYTES = 64 * 1024;

/**
 * Validates a task file of either format: holds its first bytes (at most MAX_HELD_BYTES, in one buffer) until one
 * that is not whitespace (or a BOM) says which format it is, then hands everything to that format's validator. The
 * interface is the validators' (`write`, `stopped`, `hasErrors`, `finish`). A declared format the content
 * contradicts is an error (format_mismatch), and the file is still checked as what it is, so the report says
 * everything at once.
 */
export class AnyTaskFileValidator {
  private readonly sniffer = new FormatSniffer();
  /**
   * The whitespace (and BOM) read before the format is known, copied into one buffer that doubles as it fills, up to
   * MAX_HELD_BYTES, and the bytes of it in use. One buffer rather than a copy of each chunk: whitespace pushed a byte
   * at a time would otherwise cost an object per byte, about 200 times its size.
   */
  private held = new Uint8Array(0);
  private heldBytes = 0;
  private validator: TaskFileValidator | MweFileValidator | undefined;

  constructor(private readonly options: TaskFileOptions = {}) {}

  get stopped(): boolean {
    return this.validator?.stopped ?? false;
  }

  get hasErrors(): boolean {
    return this.validator?.hasErrors ?? false;
  }

  /** The format being checked, once known. */
  get format(): TaskFileFormat | undefined {
    if (!this.validator) return undefined;
    return this.validator instanceof MweFileValidator ? "mwe" : "csv";
  }

  /** What the bytes are, once known. */
  get kind(): TaskFileKind | undefined {
    if (!this.validator) return undefined;
    if (!(this.validator instanceof MweFileValidator)) return "csv";
    return this.validator.form === "array" ? "json_array" : "jsonl";
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.validator) return this.validator.write(chunk);
    const detected = this.sniffer.feed(chunk);
    if (!detected && this.heldBytes + chunk.length <= MAX_HELD_BYTES) {
      this.hold(chunk);
      return;
    }
    // The chunk that decides goes to the validator as it is, after what was held: it is never held itself.
    await this.start(detected, chunk);
  }

  finish(): ValidationReport {
    if (!this.validator) {
      // Whitespace only (or nothing): the declared format's validator says the file is empty.
      const declared = this.options.choice?.format ?? "csv";
      this.validator = this.create(declared, true);
      const held = this.takeHeld();
      if (held.length > 0) this.validator.push(held);
    }
    return this.validator.finish();
  }

  private async start(detected: Detection | undefined, chunk: Uint8Array): Promise<void> {
    const declared = this.options.choice?.format;
    const format = detected?.format ?? declared ?? "csv";
    const agrees = declared === undefined || declared === format;
    const validator = this.create(format, agrees);
    this.validator = validator;
    if (!agrees && detected) validator.reportFormatMismatch(mismatchMessage(format, detected), detected.line);
    // Said once: a declared format the file contradicts covers its behaviour settings too.
    if (format === "csv" && declared === undefined && this.options.choice?.behaviourGiven)
      validator.reportFormatMismatch(
        "The metadata has behaviour settings, which only a model-written evaluation (JSON Lines) uses, but this file is a CSV; remove them, or send the JSON Lines file.",
      );
    const held = this.takeHeld();
    if (held.length > 0) await validator.write(held);
    if (!validator.stopped) await validator.write(chunk);
  }

  private hold(chunk: Uint8Array): void {
    const needed = this.heldBytes + chunk.length;
    if (needed > this.held.length) {
      // Doubling keeps the copying linear; write never holds past MAX_HELD_BYTES.
      const grown = new Uint8Array(Math.min(Math.max(needed, 2 * this.held.length, 256), MAX_HELD_BYTES));
      grown.set(this.held.subarray(0, this.heldBytes));
      this.held = grown;
    }
    this.held.set(chunk, this.heldBytes);
    this.heldBytes = needed;
  }

  /** The held bytes, no longer held. */
  private takeHeld(): Uint8Array {
    const held = this.held.subarray(0, this.heldBytes);
    this.held = new Uint8Array(0);
    this.heldBytes = 0;
    return held;
  }

  /** The format's validator; the declared task type only when the format is the declared one (else it is noise). */
  private create(format: TaskFileFormat, withTaskType: boolean): TaskFileValidator | MweFileValidator {
    const { taskType, limits, onExample, choice } = this.options;
    const common = {
      ...(limits ? { limits } : {}),
      ...(onExample ? { onExample } : {}),
      ...(withTaskType && taskType !== undefined ? { taskType } : {}),
    };
    return format === "mwe"
      ? new MweFileValidator({ ...common, ...(choice ? { template: choice.template } : {}) })
      : new TaskFileValidator(common);
  }
}

function mismatchMessage(found: TaskFileFormat, detected: Detection): string {
  const first = quoted(String.fromCharCode(detected.byte));
  return found === "mwe"
    ? `The format given is "csv", but the file starts with ${first}: it is a model-written evaluation (JSON), and is checked as one. Give format "mwe" (or none), or send the CSV.`
    : `The format given is "mwe", but the file starts with ${first}, not "{" or "[": it is checked as a CSV. Give format "csv" (or none), or send the JSON Lines file.`;
}

interface Detection {
  format: TaskFileFormat;
  /** The deciding byte, and its line. */
  byte: number;
  line: number;
}

const BOM = [0xef, 0xbb, 0xbf];

/** Finds the first byte that is not whitespace or part of a leading BOM, over chunks of any size, once. */
class FormatSniffer {
  private offset = 0;
  private bomMatched = 0;
  private line = 1;

  feed(chunk: Uint8Array): Detection | undefined {
    for (const b of chunk) {
      const at = this.offset++;
      if (at < 3 && this.bomMatched === at && b === BOM[at]) {
        this.bomMatched++;
        continue;
      }
      // A BOM's first bytes followed by anything else: the file's first character is not whitespace.
      if (this.bomMatched > 0 && this.bomMatched < 3) return this.decide(BOM[0] ?? 0);
      if (b === 0x0a) this.line++;
      else if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return this.decide(b);
    }
    return undefined;
  }

  private decide(byte: number): Detection {
    return { format: byte === 0x7b || byte === 0x5b ? "mwe" : "csv", byte, line: this.line };
  }
}

/** Validates a whole stream of either format (for the CLI and tests); stops reading once a limit is reached. */
export async function validateTaskStream(
  stream: ReadableStream<Uint8Array>,
  options: TaskFileOptions = {},
): Promise<{ report: ValidationReport; format: TaskFileFormat; kind: TaskFileKind }> {
  const validator = new AnyTaskFileValidator(options);
  await feedStream(stream, validator);
  const report = validator.finish();
  return { report, format: validator.format ?? "csv", kind: validator.kind ?? "csv" };
}
