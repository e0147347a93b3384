import { Layout } from "./layout";

/** A page for a request the pages could not serve: what went wrong in words, and where to go from here. */
export function ErrorPage({ title, message, requestId }: { title: string; message: string; requestId?: string }) {
  return (
    <Layout title={title}>
      <p class="notice bad">{message}</p>
      {requestId ? (
        <p>
          Request id: <code>{requestId}</code>
        </p>
      ) : null}
      <p>
        <a href="/submit">Back to the submit page</a> · <a href="/">The leaderboard</a>
      </p>
    </Layout>
  );
}
