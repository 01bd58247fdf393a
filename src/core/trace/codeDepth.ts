/**
 * Per-token bracket depth and string (quote) depth of code text: the signals behind the one-click
 * hypotheses "units that follow bracket depth / quote depth" (see unitRanking.ts).
 *
 * A small lexer for C-family code (TypeScript/JavaScript first): brackets count only outside strings and
 * comments; '…' and "…" end at their quote or at the end of the line (an unterminated string must not
 * swallow the rest of the file); `…` template literals nest through ${ … }. Regex literals are told from
 * division by the usual look at what came before the `/` (see regexCanStart): an unbalanced bracket in a
 * regex such as /\(/ would otherwise shift the depth of everything after it. The heuristic can be
 * wrong after `}` or `)` (e.g. `if (x) /re/.test(s)`), which real code rarely writes.
 */
import type { TokenSpan } from './traceTypes.js';

export interface CodeDepth {
  /** Open (), [] and {} around the point after each token (outside strings and comments). */
  bracket: Float32Array;
  /** String literals open around the point after each token: 1 in a string, 2 in a string inside a template's ${ }, … */
  quote: Float32Array;
  /** 1 where the point after the token is inside a comment, else 0. */
  comment: Float32Array;
}

/** Depths of every point of a text: index i is the state after reading the UTF-16 units [0, i). */
export interface TextDepth {
  bracket: Int32Array;
  quote: Int32Array;
  comment: Uint8Array;
}

type Frame =
  | { kind: 'code'; braces: number } // top level, or inside a template's ${ }: braces counts { opened in it
  | { kind: 'string'; quote: string }
  | { kind: 'template' };

/**
 * The state after every UTF-16 unit of a text (index 0 = before any). Bracket
 * depth counts from 0 at the start and goes negative at closers the text never opened (a selection that
 * starts inside a block); tokenDepths re-bases it.
 */
export function textDepth(text: string): TextDepth {
  const n = text.length;
  const bracket = new Int32Array(n + 1), quote = new Int32Array(n + 1), comment = new Uint8Array(n + 1);
  const stack: Frame[] = [{ kind: 'code', braces: 0 }];
  let depth = 0, strings = 0;
  let inComment: 'line' | 'block' | undefined;
  // Regex literal state (undefined outside one) and what the code read last, to tell a regex from a division.
  let regex: { inClass: boolean } | undefined;
  let prev = '', word = '';
  for (let i = 0; i < n; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    // Two-unit lexemes ("//", "/*", "*/", "${", an escape): `pair` records the state after their first
    // unit and steps over it; the state after the second is recorded at the bottom of the loop.
    const pair = (): void => { set(i + 1); i++; };
    if (inComment === 'line') {
      if (c === '\n') inComment = undefined;
    } else if (inComment === 'block') {
      if (c === '*' && text[i + 1] === '/') { pair(); inComment = undefined; }
    } else if (regex) {
      // Brackets and quotes inside /…/ are the regex's own; a newline ends a malformed one.
      if (c === '\\') pair();
      else if (c === '[') regex.inClass = true;
      else if (c === ']') regex.inClass = false;
      else if ((c === '/' && !regex.inClass) || c === '\n') { regex = undefined; prev = '/'; word = ''; }
    } else if (top.kind === 'string') {
      if (c === '\\') pair(); // the escaped unit stays inside the string
      else if (c === top.quote || c === '\n') { stack.pop(); strings--; }
    } else if (top.kind === 'template') {
      if (c === '\\') pair();
      else if (c === '`') { stack.pop(); strings--; } else if (c === '$' && text[i + 1] === '{') { pair(); stack.push({ kind: 'code', braces: 0 }); prev = '{'; word = ''; }
    } else if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      inComment = text[i + 1] === '/' ? 'line' : 'block';
      pair();
    } else {
      if (c === '/' && regexCanStart(prev, word)) regex = { inClass: false };
      else if (c === '\'' || c === '"') { stack.push({ kind: 'string', quote: c }); strings++; } else if (c === '`') { stack.push({ kind: 'template' }); strings++; } else if (c === '(' || c === '[') depth++;
      else if (c === ')' || c === ']') depth--;
      else if (c === '{') { depth++; top.braces++; } else if (c === '}') {
        // The } that closes a template's ${ is not a bracket of the code.
        if (top.braces === 0 && stack.length > 1) stack.pop();
        else { depth--; top.braces--; }
      }
      if (!regex && !/\s/.test(c)) {
        word = /[\w$]/.test(c) ? (/[\w$]/.test(prev) ? word : '') + c : '';
        prev = c;
      }
    }
    set(i + 1);
  }
  return { bracket, quote, comment };

  // Records the state after the units [0, i).
  function set(i: number): void {
    if (i > n) return;
    bracket[i] = depth;
    quote[i] = strings;
    comment[i] = inComment ? 1 : 0;
  }
}

/** Keywords after which a `/` starts a regex (`return /x/`), where after other words it divides (`a / b`). */
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await', 'instanceof']);

/**
 * The usual lexer heuristic: `/` starts a regex at the start of the text, after an operator or opening
 * punctuation, or after one of the keywords above; after a value (a name, a number, `)`, `]`, a string) it
 * is a division.
 */
function regexCanStart(prev: string, word: string): boolean {
  if (!prev) return true;
  if (/[\w$]/.test(prev)) return REGEX_AFTER_WORD.has(word);
  return '(,=:[!&|?{};+-*%<>~^'.includes(prev);
}

/**
 * Per-token depths from token offsets: each token gets the state after its last unit (`end`), i.e. what
 * the model has read once it has consumed the token — the state a causal model's hidden state at that
 * token can know. Tokens without a source span (end ≤ start, e.g. special tokens) get the state at `end`.
 *
 * Bracket depth is relative to the shallowest point of the text (its minimum is 0). A selection that
 * starts three blocks deep and climbs out of them then reads 3 where it starts, its true depth relative to
 * where it ends; clamping at 0 instead would flatten every line after the first unmatched closer.
 */
export function tokenDepths(text: string, tokens: readonly Pick<TokenSpan, 'start' | 'end'>[]): CodeDepth {
  const d = textDepth(text);
  const at = (i: number): number => Math.max(0, Math.min(text.length, i));
  let base = 0;
  for (const v of d.bracket) if (v < base) base = v;
  const bracket = new Float32Array(tokens.length), quote = new Float32Array(tokens.length), comment = new Float32Array(tokens.length);
  tokens.forEach((t, k) => {
    const i = at(t.end);
    bracket[k] = d.bracket[i] - base;
    quote[k] = d.quote[i];
    comment[k] = d.comment[i];
  });
  return { bracket, quote, comment };
}
