/**
 * `replay --json` writes its records in batches: a write to a file or a pipe is a system call
 * (process.stdout writes synchronously to both), and one per record cost more than the rest of
 * the record's output (~8% of a replay's CPU, issue 17). Lines are written once the batch
 * passes `maxChars`, on the next turn of the event loop (so a slow run still shows each record
 * soon after it ends), and by `flush()`, which the caller runs before it writes anything else
 * to the stream and when the run stops, failed or not. The bytes are the same; only the
 * number of writes changes.
 */
interface LineWriter {
  write(chunk: string): unknown;
}

const DEFAULT_MAX_CHARS = 64 * 1024;

const recordLines = (stream: LineWriter, maxChars = DEFAULT_MAX_CHARS) => {
  let pending: string[] = [];
  let chars = 0;
  let scheduled = false;
  const flush = (): void => {
    if (pending.length === 0) return;
    const batch = pending.join('');
    pending = [];
    chars = 0;
    stream.write(batch);
  };
  const onTurn = () => {
    scheduled = false;
    flush();
  };
  return {
    /** Queues one line (with its newline). */
    write: (line: string): void => {
      pending.push(line);
      chars += line.length;
      if (chars >= maxChars) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(onTurn);
      }
    },
    flush,
  };
};

export { recordLines };
