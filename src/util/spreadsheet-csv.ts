import Papa from "papaparse";

/**
 * A cell a spreadsheet would run as a formula (text starting with =, +, -, @, a tab or a CR) gets a leading `'`.
 * papaparse's own pattern (`^[=+\-@\t\r].*$`) misses a cell with a line break, as `.` and `$` stop at it: this one
 * looks at the first character only. Numbers are never escaped (papaparse checks only text), so -0.5 stays -0.5.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** CSV that is safe to open in a spreadsheet: quoted as needed, formulas neutralised, LF line ends, a final one. */
export const spreadsheetCsv = (rows: unknown[][]): string =>
  `${Papa.unparse(rows, { newline: "\n", escapeFormulae: FORMULA_START })}\n`;
