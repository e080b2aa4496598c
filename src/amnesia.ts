// Micronode amnesia: the process writes nothing that outlives it. Everything it needs to write
// (audit log, temporary files of any library that asks os.tmpdir()) goes to one directory on a
// memory filesystem, created 0700 at start and removed on exit. A directory on a disk-backed
// filesystem is refused before anything is created there: "nothing left on disk" must not depend
// on the operator remembering to mount a tmpfs.
//
// The decisions (is this filesystem memory? what is the default path? what may be removed?) are
// pure functions; `enterAmnesia` is the one place that touches the filesystem.

import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** statfs(2) f_type of the filesystems that keep their contents in memory only. */
export const TMPFS_MAGIC = 0x01021994;
export const RAMFS_MAGIC = 0x858458f6;

/** Names for the magics an operator is likely to meet, so the refusal says what the path is on. */
const KNOWN_FS: Readonly<Record<number, string>> = {
  [TMPFS_MAGIC]: 'tmpfs',
  [RAMFS_MAGIC]: 'ramfs',
  0xef53: 'ext2/3/4',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x794c7630: 'overlayfs',
  0x6969: 'nfs',
  0x01021997: 'v9fs',
  0x65735546: 'fuse',
  0x2fc12fc1: 'zfs',
  0x4d44: 'vfat',
};

/** The default: a fresh directory under /dev/shm (tmpfs on every mainstream Linux). */
export function defaultAmnesiaDir(pid: number = process.pid, random: string = randomBytes(6).toString('hex')): string {
  return `/dev/shm/rewarder-${pid}-${random}`;
}

/** f_type is a C long: normalise so RAMFS_MAGIC (above 2^31) compares equal however it arrives. */
export function isMemoryFs(type: number | bigint): boolean {
  const t = Number(BigInt.asUintN(32, BigInt(type)));
  return t === TMPFS_MAGIC || t === RAMFS_MAGIC;
}

export function fsName(type: number | bigint): string {
  const t = Number(BigInt.asUintN(32, BigInt(type)));
  return `${KNOWN_FS[t] ?? 'a disk-backed filesystem'} (0x${t.toString(16)})`;
}

/**
 * Why `dir` cannot be the amnesia directory, in one line, or null when it can. `fsType` is the
 * statfs type of the nearest existing ancestor (where the directory would be created);
 * `existing` describes what is already at `dir`, if anything.
 */
export function refusal(
  dir: string,
  fsType: number | bigint,
  existing: { kind: 'none' } | { kind: 'dir'; entries: number } | { kind: 'other' },
): string | null {
  if (!isAbsolute(dir)) return `AMNESIA_DIR ${dir}: must be an absolute path`;
  if (resolve(dir) === '/') return 'AMNESIA_DIR /: refusing the root directory';
  if (!isMemoryFs(fsType)) {
    return `AMNESIA_DIR ${dir} is on ${fsName(fsType)}, not tmpfs or ramfs: a micronode leaves nothing on disk (use a path under /dev/shm)`;
  }
  if (existing.kind === 'other') return `AMNESIA_DIR ${dir} exists and is not a directory`;
  // It is removed on exit: only a directory with nothing of anyone else's in it may be adopted.
  if (existing.kind === 'dir' && existing.entries > 0) {
    return `AMNESIA_DIR ${dir} is not empty (${existing.entries} entries): give a new or empty directory, it is removed on exit`;
  }
  return null;
}

export class AmnesiaError extends Error {}

export interface Amnesia {
  readonly dir: string;
  /** Removes the directory and everything in it; idempotent, synchronous (runs in 'exit'). */
  remove(): void;
}

/** Nearest existing ancestor of `p` (itself included): where a mkdir -p would start writing. */
function nearestExisting(p: string): string {
  let cur = resolve(p);
  for (;;) {
    try {
      lstatSync(cur);
      return cur;
    } catch {
      const up = dirname(cur);
      if (up === cur) return cur;
      cur = up;
    }
  }
}

/**
 * Checks `dir` (nothing is created when it is refused), creates it 0700, points TMPDIR at it (so
 * os.tmpdir() in this process and in worker threads started later lands there) and removes it when
 * the process exits, whichever way a JS 'exit' is reached (signal handlers that call
 * process.exit, a failed start, the event loop running dry). A SIGKILL leaves it behind, on tmpfs:
 * gone at the next reboot, never on disk.
 */
export function enterAmnesia(dir: string, env: NodeJS.ProcessEnv = process.env): Amnesia {
  const abs = isAbsolute(dir) ? resolve(dir) : dir;
  let fsType: number | bigint;
  try {
    fsType = statfsSync(nearestExisting(abs)).type;
  } catch (e) {
    throw new AmnesiaError(`AMNESIA_DIR ${dir}: cannot statfs (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const existing = existingAt(abs);
  const why = refusal(abs, fsType, existing);
  if (why !== null) throw new AmnesiaError(why);

  mkdirSync(abs, { recursive: true, mode: 0o700 });
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    process.off('exit', remove);
    rmSync(abs, { recursive: true, force: true });
  };
  process.on('exit', remove);
  try {
    chmodSync(abs, 0o700); // mkdir's mode is filtered by the umask; an adopted directory keeps its own
    // A mount point could hide below an ancestor that was tmpfs: check the directory itself too.
    const own = statfsSync(abs).type;
    if (!isMemoryFs(own)) throw new AmnesiaError(`AMNESIA_DIR ${dir} is on ${fsName(own)}, not tmpfs or ramfs`);
  } catch (e) {
    remove();
    throw e instanceof AmnesiaError ? e : new AmnesiaError(`AMNESIA_DIR ${dir}: ${(e as Error).message}`);
  }
  const tmp = join(abs, 'tmp');
  mkdirSync(tmp, { mode: 0o700 });
  env.TMPDIR = tmp;
  return { dir: abs, remove };
}

function existingAt(p: string): { kind: 'none' } | { kind: 'dir'; entries: number } | { kind: 'other' } {
  try {
    const st = lstatSync(p);
    if (!st.isDirectory()) return { kind: 'other' };
    return { kind: 'dir', entries: readdirSync(p).length };
  } catch {
    return { kind: 'none' };
  }
}
