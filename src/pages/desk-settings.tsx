import settingsSchema from "../../schemas/competition-settings.schema.json";
import type { CompetitionSettings } from "../competition/settings";
import type { UsableFamily } from "../review/usable-families";
import { formatBytes } from "../validate/validator";
import { Layout } from "./layout";
import { REVIEW_PATH } from "./organiser-session";

/** The admins' page of the desk: the families evaluations can use and the competition settings in force. */
export const DESK_SETTINGS_PATH = `${REVIEW_PATH}/settings`;

const count = (value: number): string => value.toLocaleString("en-US");

/**
 * Only the host (and port) of a family's base URL: its path may name a deployment, and a URL may carry a key in
 * its user info or query, which the page must never show. Parsed by hand because a tgi base URL is a template
 * (`{model}` may stand in the host), which URL() refuses.
 */
export function baseUrlHost(baseUrl: string | undefined): string | undefined {
  const authority = baseUrl === undefined ? undefined : /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(baseUrl)?.[1];
  return authority?.slice(authority.lastIndexOf("@") + 1) || undefined;
}

export function DeskSettingsPage({ families, settings }: { families: UsableFamily[]; settings: CompetitionSettings }) {
  return (
    <Layout title="Families and competition settings">
      <p>
        What evaluations can run on, and the rules in force, as admins see them; read only. Change them with the API (
        <code>PUT /v1/review/families/{"{name}"}</code>, <code>PUT /v1/review/settings</code>).{" "}
        <a href={REVIEW_PATH}>Back to the submissions</a>
      </p>
      <section aria-labelledby="families-heading">
        <h2 id="families-heading">Model families</h2>
        {families.length === 0 ? <p>No family can be evaluated on.</p> : null}
        {families.map((usable, index) => (
          <Family usable={usable} index={index} />
        ))}
      </section>
      <Settings settings={settings} />
    </Layout>
  );
}

/** One family: how it is reached (its host only, never its key's name) and its models' sizes on each axis. */
function Family({ usable: { family, builtIn }, index }: { usable: UsableFamily; index: number }) {
  const host = baseUrlHost(family.baseUrl);
  // Ids by position: a family's name is shown as text, never trusted as an attribute value or fragment.
  const heading = `family-${index}`;
  return (
    <section aria-labelledby={heading}>
      <h3 id={heading}>{family.name}</h3>
      <dl class="facts">
        <dt>Defined by</dt>
        <dd>{builtIn ? "the service (built in, served by the reference server)" : "an organiser (registered)"}</dd>
        <dt>Adapter</dt>
        <dd>{family.adapter}</dd>
        <dt>Axis</dt>
        <dd>{family.axis ?? "params"}</dd>
        <dt>Visibility</dt>
        <dd>{family.visibility ?? "public"}</dd>
        <dt>API host</dt>
        <dd>{host ?? "none (its results are uploaded)"}</dd>
      </dl>
      <section class="scroll" aria-label={`Models of ${family.name}`} tabindex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Parameters</th>
              <th scope="col">Training FLOPs</th>
              <th scope="col">RLHF steps</th>
            </tr>
          </thead>
          <tbody>
            {family.models.map((model) => (
              <tr>
                <th scope="row">{model.id}</th>
                <td>{count(model.parameters)}</td>
                <td>{model.trainingFlops === undefined ? "–" : model.trainingFlops.toExponential(2)}</td>
                <td>{model.rlhfSteps === undefined ? "–" : count(model.rlhfSteps)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </section>
  );
}

type SettingName = keyof CompetitionSettings;
const isSettingName = (name: string, settings: CompetitionSettings): name is SettingName => name in settings;

/** A setting's value in words; null is the schema's "none" (no budget, no cap, no ceiling). */
function SettingValue({ name, settings }: { name: SettingName; settings: CompetitionSettings }) {
  if (name === "rounds") {
    if (settings.rounds.length === 0) return <>None: submissions are always open.</>;
    return (
      <ul>
        {settings.rounds.map((round) => (
          <li>
            {round.name}: {round.opensAt} to {round.closesAt}
          </li>
        ))}
      </ul>
    );
  }
  if (name === "publicFamilies")
    return <>{settings.publicFamilies.length === 0 ? "None" : settings.publicFamilies.join(", ")}</>;
  if (name === "maxFileBytes")
    return <>{`${count(settings.maxFileBytes)} bytes (${formatBytes(settings.maxFileBytes)})`}</>;
  const value = settings[name];
  return <>{value === null ? "None" : count(value)}</>;
}

/** Every setting in the schema's order, with its value and the schema's description of it. */
function Settings({ settings }: { settings: CompetitionSettings }) {
  const described = Object.entries(settingsSchema.properties).flatMap(([name, property]) =>
    isSettingName(name, settings) ? [{ name, description: property.description }] : [],
  );
  return (
    <section aria-labelledby="settings-heading">
      <h2 id="settings-heading">Competition settings in force</h2>
      <p>{settingsSchema.description}</p>
      <dl>
        {described.map(({ name, description }) => (
          <>
            <dt>
              <code>{name}</code>
            </dt>
            <dd>
              <SettingValue name={name} settings={settings} />
            </dd>
            <dd class="hint">{description}</dd>
          </>
        ))}
      </dl>
    </section>
  );
}
