import type { Child } from "hono/jsx";

/** Field errors by the form control's name; a control shows its own error under its label. */
export type FieldErrors = ReadonlyMap<string, string>;

interface FieldBase {
  name: string;
  label: string;
  hint?: string;
  error?: string | undefined;
  required?: boolean;
}

type Control =
  | { kind: "text" | "email" | "password"; value?: string; maxLength?: number; autocomplete?: string }
  | { kind: "textarea"; value?: string; maxLength?: number; rows?: number }
  | { kind: "select"; value?: string; options: readonly { value: string; label: string }[] }
  | { kind: "file"; accept: string; multiple?: boolean };

export type FieldProps = FieldBase & Control;

/**
 * One labelled form control with its hint and error text, tied to it by aria-describedby so that a screen reader
 * reads both with the control. The id is the name: each name appears once per page.
 */
export function Field(props: FieldProps) {
  const { name, label, hint, error, required = false } = props;
  const described = [hint ? `${name}-hint` : "", error ? `${name}-error` : ""].filter(Boolean).join(" ");
  const common = {
    id: name,
    name,
    required,
    "aria-invalid": error ? "true" : undefined,
    "aria-describedby": described || undefined,
  };
  return (
    <div class={error ? "field invalid" : "field"}>
      <label for={name}>
        {label}
        {required ? null : " (optional)"}
      </label>
      {hint ? (
        <span class="hint" id={`${name}-hint`}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span class="field-error" id={`${name}-error`}>
          {error}
        </span>
      ) : null}
      {control(props, common)}
    </div>
  );
}

function control(props: FieldProps, common: Record<string, unknown>): Child {
  switch (props.kind) {
    case "textarea":
      // A newline right after <textarea> is dropped by HTML parsers: one is added so a value's own leading
      // newlines (as in the default prompt template) survive the round trip.
      return (
        <textarea {...common} rows={props.rows ?? 4} maxlength={props.maxLength}>
          {`\n${props.value ?? ""}`}
        </textarea>
      );
    case "select":
      return (
        <select {...common}>
          {props.options.map((option) => (
            <option value={option.value} selected={option.value === (props.value ?? "")}>
              {option.label}
            </option>
          ))}
        </select>
      );
    case "file":
      return <input {...common} type="file" accept={props.accept} multiple={props.multiple} />;
    default:
      return (
        <input
          {...common}
          type={props.kind}
          value={props.value ?? ""}
          maxlength={props.maxLength}
          autocomplete={props.autocomplete}
        />
      );
  }
}

/** A checkbox with its label after it, as people expect to read one. */
export function Checkbox({ name, label, checked }: { name: string; label: string; checked: boolean }) {
  return (
    <div class="field check">
      <input type="checkbox" id={name} name={name} value="yes" checked={checked} /> <label for={name}>{label}</label>
    </div>
  );
}

/** A summary of a form's problems at its top, each a link to its control (WCAG's error-identification pattern). */
export function ErrorSummary({ errors, labels }: { errors: FieldErrors; labels: ReadonlyMap<string, string> }) {
  if (errors.size === 0) return null;
  return (
    <div class="notice bad" role="alert" id="problems">
      <h2>
        {errors.size} problem{errors.size === 1 ? "" : "s"} with the form
      </h2>
      <ul>
        {[...errors].map(([name, message]) => (
          <li>
            <a href={`#${name}`}>{labels.get(name) ?? name}</a>: {message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The sign-in form of a page session: one token, pasted once and posted (never in a URL), exchanged by `action` for
 * a cookie. The submitters' status page and the review desk share it.
 */
export function TokenSignIn({
  action,
  label,
  prefix,
  error,
}: {
  action: string;
  label: string;
  /** How the token starts (isv_st_, isv_ot_), as a hint. */
  prefix: string;
  error?: string | undefined;
}) {
  return (
    <form method="post" action={action}>
      <Field
        kind="password"
        name="token"
        label={label}
        required
        autocomplete="off"
        error={error}
        hint={`It starts with ${prefix}.`}
      />
      <p>
        <button type="submit">Sign in</button>
      </p>
    </form>
  );
}

/** The sign-out button of a page session: a post, so no link or prefetch can end a session. */
export function SignOutButton({ action }: { action: string }) {
  return (
    <form method="post" action={action}>
      <p>
        <button type="submit" class="secondary">
          Sign out
        </button>
      </p>
    </form>
  );
}
