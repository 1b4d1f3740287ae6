/**
 * The README's shell walkthroughs as data: the fenced `sh` blocks of chosen sections, split into
 * commands, each with the answer its `# …` comment shows.
 *
 * How a comment reads (on the command's line, or the comment lines right under it):
 * - `# 403 {…}`: an HTTP status first, when the answer is not a 2xx;
 * - then a JSON shape, compared with the body: the keys and values shown, where `"…"` or a bare
 *   `…` value stands for any value, `…` inside a string for any text (`"eyJ…"`), a bare `…` in an
 *   object for more members and in an array for more elements;
 * - anything else is prose for the reader: the command must then just succeed (2xx).
 */

export interface Expectation {
  status?: number;
  /** Parsed from the comment; `…` markers are MORE and ANY (see matchShape). */
  shape?: unknown;
}

export interface Command {
  /** The command as written, continuation lines included. */
  text: string;
  /** 1-based line in the README. */
  line: number;
  /** How many README lines it spans. */
  lines: number;
  expect: Expectation;
}

export interface ShellBlock {
  section: string;
  line: number;
  commands: Command[];
}

const MORE = '\u0000more';
const ANY = '\u0000any';

/**
 * Every fenced sh/bash/shell block of the `## ` sections whose titles start with one of
 * `sections`, in README order, that calls curl (a block that only installs or deploys is not a
 * walkthrough).
 */
export function shellBlocks(markdown: string, sections: readonly string[]): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.*)$/.exec(lines[i]!);
    if (heading) section = heading[1]!.trim();
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const start = i;
    while (++i < lines.length && !/^```\s*$/.test(lines[i]!));
    if (!['sh', 'bash', 'shell'].includes(fence[1]!) || !sections.some((s) => section.startsWith(s))) continue;
    const commands = commandsOf(lines.slice(start + 1, i), start + 2);
    if (commands.some((c) => /(^|[\s;|&(])curl\s/.test(c.text))) blocks.push({ section, line: start + 1, commands });
  }
  return blocks;
}

function commandsOf(lines: string[], firstLine: number): Command[] {
  const commands: Command[] = [];
  let last: (Command & { comment: string[] }) | undefined;
  const close = () => {
    if (last) commands.push({ text: last.text, line: last.line, lines: last.lines, expect: expectation(last.comment.join(' ')) });
    last = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = firstLine + i;
    let text = lines[i]!;
    while (text.endsWith('\\') && i + 1 < lines.length) text += `\n${lines[++i]}`;
    const trimmed = text.trim();
    if (trimmed === '') close();
    else if (trimmed.startsWith('#')) last?.comment.push(trimmed.replace(/^#\s?/, ''));
    else {
      close();
      const { code, comment } = splitComment(text);
      last = { text: code, line, lines: firstLine + i - line + 1, expect: {}, comment: comment === undefined ? [] : [comment] };
    }
  }
  close();
  return commands;
}

/** The command and its trailing comment: a `#` after white space, outside quotes. */
function splitComment(text: string): { code: string; comment?: string } {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === '\\') i++;
    else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && i > 0 && /\s/.test(text[i - 1]!)) return { code: text.slice(0, i).trimEnd(), comment: text.slice(i + 1).trim() };
  }
  return { code: text };
}

/** Reads a comment as `[status] [shape] [prose]`. */
export function expectation(comment: string): Expectation {
  const status = /^(\d{3})(?=\s|$)/.exec(comment);
  const rest = (status ? comment.slice(3) : comment).trim();
  const shape = rest.startsWith('{') || rest.startsWith('[') ? parseShape(rest.slice(0, balancedEnd(rest))) : undefined;
  return { ...(status ? { status: Number(status[1]) } : {}), ...(shape === undefined ? {} : { shape }) };
}

/** Where the JSON value that starts `text` ends. */
function balancedEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced shape in README comment: ${text}`);
}

/** JSON with bare `…`: in an object a MORE member, after a colon an ANY value, in an array a MORE element. */
function parseShape(text: string): unknown {
  let json = '';
  let inString = false;
  const open: string[] = [];
  let previous = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      json += c;
      if (c === '\\') json += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '…') {
      json += previous === ':' ? JSON.stringify(ANY) : open.at(-1) === '{' ? `${JSON.stringify(MORE)}:true` : JSON.stringify(MORE);
    } else {
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') open.push(c);
      else if (c === '}' || c === ']') open.pop();
      json += c;
    }
    if (!/\s/.test(c)) previous = c;
  }
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new Error(`README comment is not a shape: ${text} (${(error as Error).message})`);
  }
}

/** Where `actual` differs from `shape` (a JSON path and why), or undefined when it matches. */
export function mismatch(actual: unknown, shape: unknown, path = '$'): string | undefined {
  if (typeof shape === 'string') {
    if (shape === ANY || shape === '…') return actual === undefined ? `${path}: missing` : undefined;
    if (shape.includes('…')) {
      const pattern = new RegExp(`^${shape.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*')}$`);
      return typeof actual === 'string' && pattern.test(actual) ? undefined : `${path}: ${JSON.stringify(actual)} is not ${JSON.stringify(shape)}`;
    }
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(actual)) return `${path}: ${JSON.stringify(actual)} is not an array`;
    const wanted = shape.filter((element) => element !== MORE);
    if (wanted.length === shape.length) {
      if (actual.length !== shape.length) return `${path}: ${actual.length} elements, not ${shape.length}`;
      for (let i = 0; i < shape.length; i++) {
        const wrong = mismatch(actual[i], shape[i], `${path}[${i}]`);
        if (wrong) return wrong;
      }
      return undefined;
    }
    // With `…`: the elements shown appear in this order, others may come between and after.
    let at = 0;
    for (const element of wanted) {
      while (at < actual.length && mismatch(actual[at], element) !== undefined) at++;
      if (at++ >= actual.length) return `${path}: no element after the ones matched so far is ${JSON.stringify(element)}`;
    }
    return undefined;
  }
  if (shape !== null && typeof shape === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path}: ${JSON.stringify(actual)} is not an object`;
    const members = Object.entries(shape).filter(([key]) => key !== MORE);
    if (members.length === Object.keys(shape).length) {
      const extra = Object.keys(actual).filter((key) => !(key in shape));
      if (extra.length > 0) return `${path}: unexpected ${extra.join(', ')}`;
    }
    for (const [key, value] of members) {
      if (!(key in actual)) return `${path}.${key}: missing`;
      const wrong = mismatch((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
      if (wrong) return wrong;
    }
    return undefined;
  }
  return actual === shape ? undefined : `${path}: ${JSON.stringify(actual)} is not ${JSON.stringify(shape)}`;
}
