import { describe, expect, it } from 'vitest';
import { emailProblem, parseMembersCsv } from '../../../shared/cli/members/csv.ts';

describe('members CSV: accepted input', () => {
  it('reads the console format: header, then one account id and email per line', () => {
    // Prepare
    const text = 'Account ID,Email\n111111111111,security@example.com\n222222222222,ops@example.org\n';
    // Act
    const parsed = parseMembersCsv(text);
    // Assess
    expect(parsed.problems).toEqual([]);
    expect(parsed.header).toBe(true);
    expect(parsed.rows).toEqual([
      { line: 2, accountId: '111111111111', email: 'security@example.com' },
      { line: 3, accountId: '222222222222', email: 'ops@example.org' },
    ]);
  });

  it('tolerates a BOM, CRLF line ends, spacing around fields and header words, and blank lines', () => {
    // Prepare
    const text = '\uFEFF  account id ,  EMAIL \r\n\r\n 111111111111 , security@example.com \r\n   \r\n222222222222,ops@example.org\r\n\r\n';
    // Act
    const parsed = parseMembersCsv(text);
    // Assess
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows).toEqual([
      { line: 3, accountId: '111111111111', email: 'security@example.com' },
      { line: 5, accountId: '222222222222', email: 'ops@example.org' },
    ]);
  });

  it('reads quoted fields, escaped quotes in a quoted header, and trailing empty spreadsheet columns', () => {
    // Prepare
    const text = '"Account ID","Email",,\n"111111111111","security@example.com",,\n"222222222222",ops@example.org\n';
    // Act
    const parsed = parseMembersCsv(text);
    // Assess
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows.map((r) => [r.line, r.accountId, r.email])).toEqual([
      [2, '111111111111', 'security@example.com'],
      [3, '222222222222', 'ops@example.org'],
    ]);
  });

  it('counts lines inside a quoted field that spans lines, and accepts a file without the header', () => {
    // Prepare
    const text = '111111111111,security@example.com\n"2222\n22222222",ops@example.org\n333333333333,ok@example.com';
    // Act
    const parsed = parseMembersCsv(text);
    // Assess
    expect(parsed.header).toBe(false);
    expect(parsed.rows.map((r) => r.line)).toEqual([1, 4]);
    expect(parsed.problems).toEqual([{ line: 2, message: expect.stringContaining("expected a 12-digit account id, got '2222\n22222222'") }]);
  });
});

describe('members CSV: every bad row, with its line number', () => {
  it('reports bad ids, bad emails, duplicates and wrong column counts together', () => {
    // Prepare
    const text = [
      'Account ID,Email', // 1
      '111111111111,security@example.com', // 2
      '11111111111,short@example.com', // 3: 11 digits
      '1.11111E+11,sci@example.com', // 4: spreadsheet notation
      'abcdefghijkl,letters@example.com', // 5
      '222222222222,not-an-email', // 6
      '', // 7 (blank)
      '111111111111,again@example.com', // 8: duplicate of line 2
      '333333333333', // 9: one column
      '444444444444,a@b.c,extra', // 10: three columns
      '555555555555,.dot@example.com', // 11
      '666666666666,two@@example.com', // 12
      '777777777777,"sp ace@example.com"', // 13
      '888888888888,user@-example.com', // 14
      '999999999999,user@localhost', // 15
      '123456789012,ok@example.com', // 16
    ].join('\n');
    // Act
    const parsed = parseMembersCsv(text);
    // Assess
    expect(parsed.problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15]);
    const byLine = new Map(parsed.problems.map((p) => [p.line, p.message]));
    expect(byLine.get(3)).toMatch(/has 11 digits; expected 12/);
    expect(byLine.get(4)).toMatch(/scientific notation/);
    expect(byLine.get(5)).toMatch(/expected a 12-digit account id, got 'abcdefghijkl'/);
    expect(byLine.get(6)).toMatch(/exactly one @/);
    expect(byLine.get(8)).toBe('duplicate account id 111111111111 (first on line 2)');
    expect(byLine.get(9)).toMatch(/expected 2 columns .* got 1/);
    expect(byLine.get(10)).toMatch(/got 3/);
    expect(byLine.get(11)).toMatch(/must not begin with a dot/);
    expect(byLine.get(12)).toMatch(/exactly one @/);
    expect(byLine.get(13)).toMatch(/whitespace/);
    expect(byLine.get(14)).toMatch(/must not begin or end with a dot or a hyphen/);
    expect(byLine.get(15)).toMatch(/at least one dot/);
    expect(parsed.rows.map((r) => r.accountId)).toEqual(['111111111111', '123456789012']);
  });

  it('reports a row with both a bad id and a bad email once, naming both', () => {
    // Act
    const parsed = parseMembersCsv('Account ID,Email\n12345,bad\n');
    // Assess
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toMatchObject({ line: 2, message: expect.stringMatching(/5 digits.*; email must be 6 to 64/) });
  });

  it('reports a misspelt header and an unterminated quote', () => {
    // Act
    const misspelt = parseMembersCsv('Acount ID,Email\n111111111111,a@example.com\n');
    const unterminated = parseMembersCsv('Account ID,Email\n111111111111,"a@example.com\n');
    // Assess
    expect(misspelt.problems).toEqual([{ line: 1, message: "expected the header 'Account ID,Email', got 'Acount ID,Email'" }]);
    expect(unterminated.problems.map((p) => p.line)).toContain(2);
    expect(unterminated.problems.some((p) => p.message === 'unterminated quoted field')).toBe(true);
  });
});

describe('members CSV: the email rules of the API model', () => {
  it('accepts what the model allows and names the first rule broken otherwise', () => {
    // Act / Assess
    expect(emailProblem('a.b+c@sub.example-domain.com')).toBeUndefined();
    expect(emailProblem('a@b.c')).toMatch(/6 to 64/);
    expect(emailProblem(`${'x'.repeat(60)}@ex.com`)).toMatch(/6 to 64/);
    expect(emailProblem('jösé@example.com')).toMatch(/7-bit ASCII/);
    expect(emailProblem('a%b@example.com')).toMatch(/must not contain/);
    expect(emailProblem('ab@exa_mple.com')).toMatch(/letters, digits, hyphens and dots/);
    expect(emailProblem('ab@example.com.')).toMatch(/begin or end/);
  });
});
