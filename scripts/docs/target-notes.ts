/**
 * Reads scripts/docs/target-notes.md: what a target definition cannot say about itself yet
 * (what each setting means, its default where code applies it, the prose about messages and
 * limits). Everything is checked against the definitions, so a note about a setting that no
 * longer exists stops `npm run docs` instead of going stale in the docs.
 */

interface SettingNote {
  description: string;
  default?: string;
  line: number;
}

interface TargetNote {
  type: string;
  line: number;
  settings: Map<string, SettingNote>;
  prose: string;
}

class TargetNotesError extends Error {
  override name = 'TargetNotesError';
}

const SECTION = /^## (\S+)\s*$/;
const SETTING = /^- `(\w+)`(?: \[default (.+?)\])?: (.+)$/;

/** Splits the notes into one entry per `## type` section; the comment before the first section is for maintainers. */
const parseTargetNotes = (text: string, file: string): Map<string, TargetNote> => {
  const notes = new Map<string, TargetNote>();
  let current: (TargetNote & { proseLines: string[] }) | undefined;
  const finish = () => {
    if (current === undefined) return;
    notes.set(current.type, { type: current.type, line: current.line, settings: current.settings, prose: current.proseLines.join('\n').trim() });
  };
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const heading = SECTION.exec(raw);
    if (heading) {
      finish();
      const type = heading[1]!;
      if (notes.has(type)) throw new TargetNotesError(`${file}:${line}: a second section for '${type}'`);
      current = { type, line, settings: new Map(), prose: '', proseLines: [] };
      return;
    }
    if (current === undefined) return;
    // Setting bullets come first in a section; a bullet after prose is prose (a list in the text).
    const setting = current.proseLines.length === 0 ? SETTING.exec(raw) : null;
    if (setting) {
      const name = setting[1]!;
      if (current.settings.has(name)) throw new TargetNotesError(`${file}:${line}: '${current.type}' describes '${name}' twice`);
      current.settings.set(name, { description: setting[3]!.trim(), ...(setting[2] !== undefined ? { default: setting[2] } : {}), line });
      return;
    }
    if (raw.startsWith('- `') && current.proseLines.length === 0) {
      throw new TargetNotesError(`${file}:${line}: expected "- \`setting\` [default X]: description"`);
    }
    if (current.proseLines.length > 0 || raw.trim() !== '') current.proseLines.push(raw);
  });
  finish();
  return notes;
};

/** Every note must name a registered type and, for settings, one the type's schema has. */
const checkTargetNotes = (notes: ReadonlyMap<string, TargetNote>, settingsByType: ReadonlyMap<string, readonly string[]>, file: string): void => {
  for (const note of notes.values()) {
    const settings = settingsByType.get(note.type);
    if (settings === undefined) throw new TargetNotesError(`${file}:${note.line}: no target type '${note.type}' in shared/targets/registry.ts`);
    for (const [name, setting] of note.settings) {
      if (!settings.includes(name)) throw new TargetNotesError(`${file}:${setting.line}: target '${note.type}' has no setting '${name}' (it has ${settings.join(', ')})`);
    }
  }
};

export { parseTargetNotes, checkTargetNotes, TargetNotesError };
export type { TargetNote };
