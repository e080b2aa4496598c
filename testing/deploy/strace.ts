// Reads an strace log (one file per thread: `strace -f -ff -z -y -o PREFIX`) and lists every
// syscall that created, changed or removed something on a filesystem, with the absolute path it
// touched. Why a trace and not a before/after snapshot of /tmp, HOME, the repository: a snapshot
// cannot tell this process's writes from those of the tests running beside it (the suite runs two
// files at once, other tools write under /tmp), and it misses a file created and deleted between
// the snapshots. The trace names exactly this process tree's syscalls, transient files included.

import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** What strace must trace for `fileChanges` to see every write (portable syscall classes). */
export const STRACE_FILTER = 'trace=%file,fchmod,fchown,ftruncate,fsetxattr,fremovexattr,bind';

export interface FileChange {
  syscall: string;
  path: string;
  line: string;
}

/** The trace lines of every thread: `PREFIX.<tid>` files written by `strace -ff -o PREFIX`. */
export function readTrace(prefix: string): string[] {
  const dir = dirname(prefix);
  const base = `${basename(prefix)}.`;
  const lines: string[] = [];
  for (const f of readdirSync(dir)) {
    if (f.startsWith(base)) lines.push(...readFileSync(join(dir, f), 'utf8').split('\n'));
  }
  return lines;
}

/** Decodes a C string as strace prints it (\\ \" \n \t, octal and hex escapes). */
export function unquote(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return { n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' }[e] ?? e;
  });
}

/** Splits the argument list at top-level commas (outside quotes, braces, brackets, <decorations>). */
export function splitArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (let i = 0; i < args.length; i++) {
    const c = args[i] as string;
    if (quoted) {
      cur += c;
      if (c === '\\') cur += args[++i] ?? '';
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '{' || c === '[' || c === '<' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === '>' || c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

const QUOTED = /^"((?:[^"\\]|\\.)*)"/;
/** `AT_FDCWD</cwd>` or `7</some/dir>`: the directory strace -y resolved for a descriptor. */
const DECORATED = /^(?:AT_FDCWD|\d+)<([^>]*)>/;

function pathArg(arg: string | undefined): string | undefined {
  const m = arg === undefined ? null : QUOTED.exec(arg);
  return m === null ? undefined : unquote(m[1] as string);
}
function fdPath(arg: string | undefined): string | undefined {
  const m = arg === undefined ? null : DECORATED.exec(arg);
  return m === null ? undefined : (m[1] as string);
}

/** Syscalls by where their path arguments are: [dirfd index or -1 for the cwd, path index]. */
const PATHS: Record<string, Array<[number, number]>> = {
  creat: [[-1, 0]],
  truncate: [[-1, 0]],
  chmod: [[-1, 0]],
  chown: [[-1, 0]],
  lchown: [[-1, 0]],
  mkdir: [[-1, 0]],
  rmdir: [[-1, 0]],
  unlink: [[-1, 0]],
  utime: [[-1, 0]],
  utimes: [[-1, 0]],
  mknod: [[-1, 0]],
  setxattr: [[-1, 0]],
  lsetxattr: [[-1, 0]],
  removexattr: [[-1, 0]],
  lremovexattr: [[-1, 0]],
  rename: [[-1, 0], [-1, 1]],
  link: [[-1, 1]],
  symlink: [[-1, 1]],
  mkdirat: [[0, 1]],
  unlinkat: [[0, 1]],
  fchmodat: [[0, 1]],
  fchownat: [[0, 1]],
  utimensat: [[0, 1]],
  futimesat: [[0, 1]],
  mknodat: [[0, 1]],
  renameat: [[0, 1], [2, 3]],
  renameat2: [[0, 1], [2, 3]],
  linkat: [[2, 3]],
  symlinkat: [[1, 2]],
};
const OPENS = new Set(['open', 'openat', 'openat2', 'creat']);
const BY_FD = new Set(['fchmod', 'fchown', 'ftruncate', 'fsetxattr', 'fremovexattr']);
const WRITE_FLAGS = /\bO_(WRONLY|RDWR|CREAT|TRUNC)\b/;
const LINE = /^([a-z0-9_]+)\((.*)\)\s+=\s+(.*)$/;

/**
 * Every successful syscall in `lines` that changed the filesystem, with its absolute path
 * (relative paths resolved against `cwd`, or the dirfd's directory). A `chdir` makes `cwd`
 * unknowable for the lines after it: reported as a change to the directory it entered, so a
 * caller that checks paths notices.
 */
export function fileChanges(lines: readonly string[], cwd: string): FileChange[] {
  const out: FileChange[] = [];
  for (const line of lines) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const [, name, rawArgs, result] = m as unknown as [string, string, string, string];
    if (/^-1\b/.test(result)) continue; // failed: nothing changed (strace -z prints none anyway)
    const args = splitArgs(rawArgs);
    const add = (path: string | undefined) => {
      if (path !== undefined) out.push({ syscall: name, path, line });
    };
    if (OPENS.has(name)) {
      if (name !== 'creat' && !WRITE_FLAGS.test(rawArgs)) continue;
      // The kernel's own answer (the decorated result descriptor) beats resolving by hand.
      const opened = /^\d+<([^>]*)>/.exec(result);
      if (opened !== null) add(opened[1]);
      else {
        const [dirIdx, pathIdx] = name === 'open' || name === 'creat' ? [-1, 0] : [0, 1];
        const p = pathArg(args[pathIdx]);
        add(p === undefined ? undefined : resolve(dirIdx < 0 ? cwd : (fdPath(args[dirIdx]) ?? cwd), p));
      }
    } else if (BY_FD.has(name)) {
      add(fdPath(args[0]));
    } else if (name === 'bind') {
      const sun = /sun_path="((?:[^"\\]|\\.)*)"/.exec(rawArgs);
      if (sun !== null && !(sun[1] as string).startsWith('@')) add(resolve(cwd, unquote(sun[1] as string)));
    } else if (name === 'chdir' || name === 'fchdir') {
      add(name === 'chdir' ? resolve(cwd, pathArg(args[0]) ?? '?') : fdPath(args[0]));
    } else {
      const spec = PATHS[name];
      if (spec === undefined) continue;
      for (const [dirIdx, pathIdx] of spec) {
        const p = pathArg(args[pathIdx]);
        const base = dirIdx < 0 ? cwd : (fdPath(args[dirIdx]) ?? cwd);
        // utimensat(fd, NULL, …) / fchmodat on an empty path act on the descriptor itself.
        if (p === undefined || p === '') add(fdPath(args[dirIdx]));
        else add(resolve(base, p));
      }
    }
  }
  return out;
}

/** True when `path` is `root` or below it. */
export function isWithin(path: string, root: string): boolean {
  const r = root.endsWith('/') ? root.slice(0, -1) : root;
  return path === r || path.startsWith(`${r}/`);
}
