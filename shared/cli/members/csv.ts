/**
 * The member list the GuardDuty console accepts ("Upload list (.csv)"): a header
 * `Account ID,Email`, then one `accountId,email` per line. Tolerates a UTF-8 BOM, CRLF
 * or CR line ends, spaces around fields and header words, quoted fields (RFC 4180, with
 * `""` escapes), blank lines, trailing empty columns (spreadsheet exports) and a file
 * without the header whose first line is already data. Every bad row is reported with
 * its line number; nothing is thrown.
 */

interface MemberRow {
  line: number;
  accountId: string;
  email: string;
}

interface CsvProblem {
  line: number;
  message: string;
}

interface ParsedMembers {
  rows: MemberRow[];
  problems: CsvProblem[];
  /** Whether the file had the `Account ID,Email` header. */
  header: boolean;
}

interface CsvRecord {
  line: number;
  fields: string[];
}

/** Splits the text into records; `line` is the 1-based line a record starts on. */
const records = (text: string): { records: CsvRecord[]; problems: CsvProblem[] } => {
  const out: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  let line = 1;
  let start = 1;
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  let wasQuoted = false;
  const endField = () => {
    fields.push(wasQuoted ? field : field.trim());
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    out.push({ line: start, fields });
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      wasQuoted = true;
      field = '';
    } else if (c === ',') {
      endField();
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else if (wasQuoted) {
      // Text after a closing quote: keep it (trimmed), the row fails validation if it matters.
      if (c.trim() !== '') field += c;
    } else {
      field += c;
    }
  }
  if (quoted) problems.push({ line: start, message: 'unterminated quoted field' });
  if (field !== '' || fields.length > 0 || wasQuoted) endRecord();
  return { records: out, problems };
};

const ACCOUNT_ID = /^\d{12}$/;

/** The email rules of the GuardDuty API model (`AccountDetail.Email`); undefined when valid. */
const emailProblem = (email: string): string | undefined => {
  if (email === '') return 'email is empty';
  if (email.length < 6 || email.length > 64) return `email must be 6 to 64 characters long (got ${email.length})`;
  if (!/^[\x20-\x7e]*$/.test(email)) return 'email must be 7-bit ASCII characters only';
  const at = email.split('@');
  if (at.length !== 2) return 'email must contain exactly one @';
  const [local, domain] = at as [string, string];
  if (local === '') return 'email has nothing before the @';
  if (/[\s"'()<>[\]:,\\|%&]/.test(local)) return 'email local part must not contain whitespace or any of " \' ( ) < > [ ] : , \\ | % &';
  if (local.startsWith('.')) return 'email local part must not begin with a dot';
  if (!/^[A-Za-z0-9.-]+$/.test(domain)) return 'email domain may only contain letters, digits, hyphens and dots';
  if (/^[.-]|[.-]$/.test(domain)) return 'email domain must not begin or end with a dot or a hyphen';
  if (!domain.includes('.')) return 'email domain must contain at least one dot';
  return undefined;
};

const isHeader = (fields: readonly string[]): boolean => {
  const norm = fields.map((f) => f.toLowerCase().replace(/[\s_-]+/g, ''));
  return norm[0] === 'accountid' && norm[1] === 'email';
};

const parseMembersCsv = (input: string): ParsedMembers => {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const { records: all, problems } = records(text);
  const nonBlank = all.filter((r) => r.fields.some((f) => f.trim() !== ''));
  const rows: MemberRow[] = [];
  const firstSeen = new Map<string, number>();
  let header = false;

  nonBlank.forEach((record, index) => {
    // Spreadsheet exports pad rows with empty columns.
    const fields = [...record.fields];
    while (fields.length > 2 && fields[fields.length - 1]!.trim() === '') fields.pop();
    if (index === 0) {
      if (isHeader(fields)) {
        header = true;
        if (fields.length > 2) problems.push({ line: record.line, message: `header has ${fields.length} columns; expected exactly 'Account ID,Email'` });
        return;
      }
      if (!ACCOUNT_ID.test(fields[0]?.trim() ?? '')) {
        problems.push({ line: record.line, message: `expected the header 'Account ID,Email', got '${record.fields.join(',')}'` });
        return;
      }
    }
    if (fields.length !== 2) {
      problems.push({ line: record.line, message: `expected 2 columns (account id, email), got ${fields.length}` });
      return;
    }
    const accountId = fields[0]!.trim();
    const email = fields[1]!.trim();
    const rowProblems: string[] = [];
    if (!ACCOUNT_ID.test(accountId)) {
      rowProblems.push(
        /^\d+(\.\d+)?e\+\d+$/i.test(accountId)
          ? `account id '${accountId}' was mangled by a spreadsheet (scientific notation); expected 12 digits`
          : /^\d{1,11}$/.test(accountId)
            ? `account id '${accountId}' has ${accountId.length} digits; expected 12 (leading zeros lost?)`
            : `expected a 12-digit account id, got '${accountId}'`,
      );
    }
    const emailIssue = emailProblem(email);
    if (emailIssue) rowProblems.push(`${emailIssue} ('${email}')`);
    if (ACCOUNT_ID.test(accountId)) {
      const seen = firstSeen.get(accountId);
      if (seen !== undefined) rowProblems.push(`duplicate account id ${accountId} (first on line ${seen})`);
      else firstSeen.set(accountId, record.line);
    }
    if (rowProblems.length > 0) {
      problems.push({ line: record.line, message: rowProblems.join('; ') });
      return;
    }
    rows.push({ line: record.line, accountId, email });
  });
  problems.sort((a, b) => a.line - b.line);
  return { rows, problems, header };
};

export { parseMembersCsv, emailProblem };
