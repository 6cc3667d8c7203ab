// A bot's status as a tag whose colour and words say what the owner should know.
const WORDS: Record<string, { words: string; tone: string }> = {
  stopped: { words: "stopped", tone: "" },
  starting: { words: "starting", tone: "warn" },
  running: { words: "running", tone: "ok" },
  backoff: { words: "waiting to restart", tone: "warn" },
  failed: { words: "failed", tone: "bad" },
};

export function StatusTag({ status }: { status: string }) {
  const known = WORDS[status] ?? { words: status, tone: "" };
  return (
    <span class={`tag ${known.tone}`} data-testid="bot-status" data-status={status}>
      {known.words}
    </span>
  );
}
