/** One input event and the place it came from (`file`, `file[3]`, `file:12`, `file.Findings[0]`), or why there is none. */
interface InputItem {
  source: string;
  value?: unknown;
  error?: string;
}

export type { InputItem };
