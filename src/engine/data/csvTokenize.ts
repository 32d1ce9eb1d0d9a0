// RFC 4180 record splitting: quoted fields (with "" escapes and embedded newlines), CRLF / LF / CR
// line ends, a leading UTF-8 BOM. Numbers are not interpreted here (see csvValues.ts).
import { badInput } from '../errors';
import { clip } from '../util/jsonLimits';

/**
 * Calls onRecord(fields, line) for each record, where line is the 1-based physical line the
 * record starts on (what an editor shows). Blank lines are skipped but still counted, so the
 * line numbers in later error messages stay those of the file.
 */
export function forEachCsvRecord(
  text: string,
  file: string,
  onRecord: (fields: string[], line: number) => void,
  delimiter = ',',
): void {
  const delim = delimiter.charCodeAt(0);
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let line = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let sawQuote = false;
    // One record: fields until an unquoted line end or the end of the text.
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === 0x22 /* " */) {
        sawQuote = true;
        const quoteLine = line;
        let parts = '';
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            throw badInput('unterminated quoted field', {
              file,
              field: `row ${quoteLine}, column ${fields.length + 1}`,
              expected: 'a closing double quote',
            });
          }
          parts += text.slice(j, q);
          if (text.charCodeAt(q + 1) === 0x22) {
            parts += '"';
            j = q + 2;
            continue;
          }
          j = q + 1;
          break;
        }
        line += countLineEnds(text, i, j);
        value = parts;
        i = j;
        const c = text.charCodeAt(i);
        if (i < n && c !== delim && c !== 0x0a && c !== 0x0d) {
          throw badInput(`unexpected text after a closing quote`, {
            file,
            field: `row ${line}, column ${fields.length + 1}`,
            expected: `a delimiter or the end of the line after "${clip(value, 60)}"`,
          });
        }
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === delim || c === 0x0a || c === 0x0d) break;
          j++;
        }
        value = text.slice(i, j);
        i = j;
      }
      fields.push(value);
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === delim) {
        i++;
        continue;
      }
      // Line end: CRLF counts once; a lone CR (old Mac files) is a line end too.
      i += c === 0x0d && text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
      line++;
      break;
    }
    const blank = !sawQuote && fields.length === 1 && fields[0].trim() === '';
    if (!blank) onRecord(fields, startLine);
  }
}

function countLineEnds(text: string, from: number, to: number): number {
  let k = 0;
  for (let p = from; p < to; p++) {
    const c = text.charCodeAt(p);
    if (c === 0x0a) k++;
    else if (c === 0x0d && text.charCodeAt(p + 1) !== 0x0a) k++;
  }
  return k;
}
