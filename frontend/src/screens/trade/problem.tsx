// An order problem in words with its one-click fix: the nearest value the server would take,
// whether our own check found it first or the server's refusal named it.
import { ApiError } from "../../api";
import { ErrorText } from "../../components/ui";
import type { DraftField, Problem } from "../../orderCheck";

const SERVER_FIELDS: Record<string, DraftField> = {
  size: "size",
  price: "price",
  trigger_price: "trigger",
};

export function ProblemText(props: { problem: Problem | null; onFix: (field: DraftField, value: string) => void }) {
  const { problem } = props;
  if (!problem) return null;
  return (
    <p class="error" role="alert" data-code={problem.code}>
      {problem.message}{" "}
      {problem.fix ? (
        <button type="button" class="fix" onClick={() => props.onFix(problem.field, problem.fix!)}>
          Use {problem.fix}
        </button>
      ) : null}
    </p>
  );
}

/** A server refusal, with the fix when it names the nearest valid value of a field we show. */
export function RefusalText(props: { error: unknown; onFix: (field: DraftField, value: string) => void }) {
  const { error } = props;
  const field = error instanceof ApiError && error.nearest ? SERVER_FIELDS[error.nearest.field] : undefined;
  if (!field || !(error instanceof ApiError) || !error.nearest) return <ErrorText error={error} />;
  return (
    <ProblemText
      problem={{ code: error.code, field, message: error.message, fix: error.nearest.value }}
      onFix={props.onFix}
    />
  );
}
