import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileChanges, isWithin, splitArgs, unquote } from './strace.js';

const CWD = '/work/repo';
const paths = (lines: string[]) => fileChanges(lines, CWD).map((c) => `${c.syscall} ${c.path}`);

void test('an open for writing is reported at the path the kernel resolved; a read-only open is not', () => {
  assert.deepEqual(
    paths([
      'openat(AT_FDCWD</work/repo>, "dist/x.js", O_RDONLY|O_CLOEXEC) = 17</work/repo/dist/x.js>',
      'openat(AT_FDCWD</work/repo>, "log.txt", O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0666) = 18</work/repo/log.txt>',
      'openat(5</dev/shm/a>, "b", O_RDWR) = 19</dev/shm/a/b>',
      'creat("/tmp/c", 0644) = 3</tmp/c>',
    ]),
    ['openat /work/repo/log.txt', 'openat /dev/shm/a/b', 'creat /tmp/c'],
  );
});

void test('directory, rename, unlink, link and metadata changes resolve relative paths against cwd or the dirfd', () => {
  assert.deepEqual(
    paths([
      'mkdir("out", 0700) = 0',
      'mkdirat(AT_FDCWD</work/repo>, "/dev/shm/x", 0777) = 0',
      'rename("/tmp/a", "b") = 0',
      'renameat2(3</tmp>, "a", 4</var/tmp>, "b", RENAME_NOREPLACE) = 0',
      'unlinkat(7</dev/shm/z>, "f", 0) = 0',
      'symlinkat("/etc/passwd", AT_FDCWD</work/repo>, "ln") = 0',
      'fchmod(9</home/u/.cache/f>, 0600) = 0',
      'utimensat(11</work/repo/README.md>, NULL, NULL, 0) = 0',
      'bind(23<socket:[1]>, {sa_family=AF_UNIX, sun_path="/run/s.sock"}, 110) = 0',
      'bind(23<socket:[2]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    ]),
    [
      'mkdir /work/repo/out',
      'mkdirat /dev/shm/x',
      'rename /tmp/a',
      'rename /work/repo/b',
      'renameat2 /tmp/a',
      'renameat2 /var/tmp/b',
      'unlinkat /dev/shm/z/f',
      'symlinkat /work/repo/ln',
      'fchmod /home/u/.cache/f',
      'utimensat /work/repo/README.md',
      'bind /run/s.sock',
    ],
  );
});

void test('reads, stats, signals, exits and failed calls are not changes', () => {
  assert.deepEqual(
    paths([
      'newfstatat(AT_FDCWD</work/repo>, "/tmp", {st_mode=S_IFDIR|01777, st_size=4096, ...}, 0) = 0',
      'readlink("/proc/self/exe", "/usr/bin/node", 4095) = 13',
      '--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=1, si_uid=0} ---',
      'mkdir("/root/x", 0777) = -1 EEXIST (File exists)',
      '+++ exited with 0 +++',
    ]),
    [],
  );
});

void test('C escapes in paths are decoded and arguments split only at top-level commas', () => {
  assert.equal(unquote('a\\"b\\\\c\\nd\\x41\\101'), 'a"b\\c\ndAA');
  assert.deepEqual(splitArgs('3</a,b>, "x, y", {a=1, b=[2, 3]}, 0'), ['3</a,b>', '"x, y"', '{a=1, b=[2, 3]}', '0']);
});

void test('a path is within a root only at a path-component boundary', () => {
  assert.equal(isWithin('/dev/shm/r-1/audit/a', '/dev/shm/r-1'), true);
  assert.equal(isWithin('/dev/shm/r-1', '/dev/shm/r-1/'), true);
  assert.equal(isWithin('/dev/shm/r-10', '/dev/shm/r-1'), false);
});
