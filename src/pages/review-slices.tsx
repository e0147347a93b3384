/**
 * The review desk's section on a task of several files or of grouped examples (issue 18): its own module, free of
 * storage and Workers types, so a browser test can render and audit it alone.
 */
import { lineName, signed, slopeText, verdictText } from "../analysis/plot-text";
import type { SlicesAnalysis } from "../analysis/slices-analysis";
import {
  claimWords,
  contrastFacts,
  contrastLine,
  hasSlicesFigure,
  otherWords,
  sliceName,
} from "../analysis/slices-plot";

/** A file as the organisers' API lists it (fileView in src/storage/submission-files.ts). */
export interface FileRow {
  name: string;
  role: string;
  label?: string;
  paired: boolean;
  firstExample: number;
  examples: number;
}

/**
 * A submission of several files, or of grouped examples: its files with their roles, each slice's verdict per family
 * line, the task's slope minus each control's and variant's with the claim, the lines left uncompared and why, and
 * the figure of the task beside its controls and variants. Nothing for a task of one file without groups.
 */
export function SlicesSection({
  figureUrl,
  files,
  slices,
}: {
  /** Where the desk's session gets the figure of the task beside its controls and variants. */
  figureUrl: string;
  files: FileRow[];
  slices: SlicesAnalysis | undefined;
}) {
  if (files.length === 0 && !slices) return null;
  return (
    <section aria-labelledby="slices-heading">
      <h2 id="slices-heading">Files, controls and variants</h2>
      {files.length > 0 ? <FilesTable files={files} /> : null}
      {slices ? (
        <>
          <SliceVerdicts slices={slices} />
          <Contrasts slices={slices} />
          {hasSlicesFigure(slices) ? (
            <img
              src={figureUrl}
              alt={`The task beside its controls and variants on ${slices.metric}: one panel per family line, with the slope differences in each panel's title`}
              width="720"
              loading="lazy"
            />
          ) : null}
          {hasSlicesFigure(slices, "groups") ? (
            <img
              src={`${figureUrl}?figure=groups`}
              alt={`The task beside each group of its examples on ${slices.metric}: one panel per family line, one line per group`}
              width="720"
              loading="lazy"
            />
          ) : null}
        </>
      ) : (
        <p>No slices analysis yet: it is made with the task's analysis, once evaluations finish.</p>
      )}
    </section>
  );
}

function FilesTable({ files }: { files: FileRow[] }) {
  return (
    <section class="scroll" aria-label="Files" tabindex={0}>
      <table>
        <caption>Files, in the order their examples are numbered</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Label</th>
            <th scope="col">Paired</th>
            <th scope="col">Examples</th>
          </tr>
        </thead>
        <tbody>
          {files.map((file) => (
            <tr>
              <th scope="row">
                <code>{file.name}</code>
              </th>
              <td>{file.role}</td>
              <td>{file.label ?? "–"}</td>
              <td>{file.paired ? "yes" : "no"}</td>
              <td>
                {file.examples} (from {file.firstExample + 1})
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Each slice's verdict and slope per family line, or why it has no analysis. */
function SliceVerdicts({ slices }: { slices: SlicesAnalysis }) {
  return (
    <section aria-labelledby="slice-verdicts-heading">
      <h3 id="slice-verdicts-heading">Verdicts per slice on {slices.metric}</h3>
      <section class="scroll" aria-label="Verdicts per slice" tabindex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Slice</th>
              <th scope="col">Examples</th>
              <th scope="col">Line</th>
              <th scope="col">Verdict</th>
              <th scope="col">Slope</th>
            </tr>
          </thead>
          <tbody>
            {slices.slices.flatMap((slice) => {
              const name = slice.kind === "group" ? `group "${slice.name}"` : sliceName(slice);
              const lines = slice.analysis?.families ?? [];
              if (!slice.analysis || lines.length === 0)
                return [
                  <tr>
                    <th scope="row">{name}</th>
                    <td>{slice.examples}</td>
                    <td colspan={3}>{slice.reason ?? "no line analysed"}</td>
                  </tr>,
                ];
              const orientation = slice.analysis.metric.orientation;
              return lines.map((line) => (
                <tr>
                  <th scope="row">{name}</th>
                  <td>{slice.examples}</td>
                  <td>{lineName(line)}</td>
                  <td>
                    <strong>{verdictText(line, orientation)}</strong>
                  </td>
                  <td>{slopeText(line)}</td>
                </tr>
              ));
            })}
          </tbody>
        </table>
      </section>
    </section>
  );
}

/** The task's slope minus each control's and variant's, per family line, and the lines left uncompared. */
function Contrasts({ slices }: { slices: SlicesAnalysis }) {
  return (
    <section aria-labelledby="contrasts-heading">
      <h3 id="contrasts-heading">The task minus its controls and variants</h3>
      {slices.contrasts.length === 0 ? <p>No slope difference: the task has no control or variant compared.</p> : null}
      <ul class="contrasts">
        {slices.contrasts.map(contrastFacts).map((facts) => {
          const [low, high] = facts.interval;
          return (
            <li>
              <strong>{contrastLine(facts)}</strong>, task − {otherWords(facts.other)}: {signed(facts.estimate)} per{" "}
              {facts.per} ({Number((facts.level * 100).toPrecision(3))}% t interval {signed(low)} to {signed(high)} per{" "}
              {facts.per}), {facts.pairing}; <strong>{claimWords(facts)}</strong>.
              <br />
              {facts.statement}
            </li>
          );
        })}
      </ul>
      {slices.uncompared.length > 0 ? (
        <>
          <p>Not compared:</p>
          <ul class="uncompared">
            {slices.uncompared.map((line) => (
              <li>
                {line.family}
                {line.line ? `, ${line.line}` : ""} against {line.other}: {line.reason}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
