/*
 * polyplug-launch: starts one process plugin so that it dies with its host and runs in the sandbox
 * the host decided (docs/confinement.md). The host spawns it as
 *
 *   polyplug-launch [--parent PID] [--need-abi N] [--read P]... [--write P]... [--exec P]...
 *                   [--connect PORT]... [--bind PORT]... [--any-connect] [--any-bind] [--udp] [--mem-mb N]
 *                   -- /absolute/program args...
 *   polyplug-launch --abi        prints the kernel's Landlock ABI version (0: none) and exits
 *
 * It knows nothing of polyplug's kinds or transports: only paths, ports and a memory bound.
 * Before exec it
 *   0. refuses to start the plugin when the kernel's Landlock ABI is below --need-abi (the rules the
 *      host requires of this plugin): one line on stderr, "polyplug-launch: Landlock ABI N, needs M",
 *      and exit 125, before anything else (the host turns it into SANDBOX_UNAVAILABLE; asking here
 *      spares the host a process of its own to learn the ABI);
 *   1. asks for SIGKILL when its parent (the host) dies (PR_SET_PDEATHSIG), and leaves at once
 *      if the host is already gone;
 *   2. leads its own process group (setpgid) in the host's session, gives up the controlling
 *      terminal it shares with the host (TIOCNOTTY: /dev/tty cannot be opened after it), and
 *      becomes a child subreaper, so orphaned descendants are reparented to the plugin. Not a
 *      session of its own: with autogroup scheduling (Linux's default) a new session is a new
 *      scheduling group, which made each round trip with the host wait on the scheduler;
 *   3. forks a watchdog outside the sandbox that stays in the group: when the plugin process
 *      ends for any reason (stopped, crashed, or killed with its host), the watchdog SIGKILLs
 *      the whole group, grandchildren included, then itself;
 *   4. sets RLIMIT_AS when given --mem-mb;
 *   5. applies a Landlock ruleset: file-system access beneath the granted paths only (--read,
 *      --write, --exec, plus execute on the program, its #! interpreters and ELF interpreter),
 *      TCP bind/connect only to the granted ports (ABI >= 4), and signals and abstract UNIX
 *      sockets scoped to the sandbox (ABI >= 6). Rights the kernel does not know are left out:
 *      step 0 refused plugins that need them (src/placement/sandbox.ts decides which);
 *   6. installs a seccomp filter for what Landlock does not cover: setsid and setpgid fail (no
 *      descendant leaves the group the host and the watchdog kill), and so does creating a UDP
 *      socket unless --udp (the manifest grants network access); system calls of another ABI
 *      (x32, 32-bit) fail, so none of this can be sidestepped through them;
 *   7. execs the program (the environment is the host's filtered one, passed through).
 * Failures print one line on stderr, "polyplug-launch: ...", and exit 126 (127: no program; 125:
 * the kernel's Landlock ABI is below --need-abi).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* Landlock UAPI (include/uapi/linux/landlock.h), spelled out: distribution headers lag the kernel. */
struct ll_ruleset_attr {
  __u64 handled_access_fs;
  __u64 handled_access_net; /* ABI 4 */
  __u64 scoped;             /* ABI 6 */
};
struct ll_path_beneath_attr {
  __u64 allowed_access;
  __s32 parent_fd;
} __attribute__((packed));
struct ll_net_port_attr {
  __u64 allowed_access;
  __u64 port;
};
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

/* Rights that may be granted on a regular file (the others only make sense on folders). */
#define LL_FS_FILE_RIGHTS (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
#define LL_FS_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)

#define MAX_ITEMS 256

static const char *reads[MAX_ITEMS], *writes[MAX_ITEMS], *execs[MAX_ITEMS];
static int n_reads, n_writes, n_execs;
static unsigned long connects[MAX_ITEMS], binds[MAX_ITEMS];
static int n_connects, n_binds;

static void fail(int code, const char *what, const char *detail) {
  fprintf(stderr, "polyplug-launch: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  _exit(code);
}

static int landlock_abi(void) {
  long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  return v < 0 ? 0 : (int)v;
}

static unsigned long number(const char *text, const char *flag) {
  char *end;
  errno = 0;
  unsigned long value = strtoul(text, &end, 10);
  if (errno || *end || end == text) fail(126, "not a number after", flag);
  return value;
}

static void push(const char **list, int *n, const char *value) {
  if (*n >= MAX_ITEMS) fail(126, "too many paths", value);
  list[(*n)++] = value;
}

/* ---- process lifetime ---- */

/* The watchdog (`polyplug-launch --watch PID`, with an empty environment): outside the sandbox, in
 * the plugin's process group. It waits until the plugin process (its parent) is gone, then
 * SIGKILLs the group, itself last. It learns of the death through a pidfd, not through
 * PR_SET_PDEATHSIG: a parent-death signal is sent by the dying parent, and a sandboxed parent may
 * not signal out of its Landlock domain. The group's own SIGTERM (a stop) is ignored. */
static int watch(pid_t plugin) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  int pidfd = (int)syscall(SYS_pidfd_open, plugin, 0);
  while (getppid() == plugin) {
    struct pollfd ready = {.fd = pidfd, .events = POLLIN};
    /* Without pidfds (Linux < 5.3): look again every 100 ms. */
    if (pidfd < 0) usleep(100 * 1000);
    else poll(&ready, 1, -1);
  }
  kill(-getpgrp(), SIGKILL);
  return 0;
}

/* Starts the watchdog: a fresh exec, so it holds none of the plugin's file descriptors (its pipes
 * must close when the plugin does) and none of its environment. */
static void watchdog(pid_t plugin) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL); /* no signal lost before --watch blocks them again */
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
    for (int fd = 3; fd < 1024; fd++) close(fd);
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; fd++) dup2(null, fd);
  if (null > 2) close(null);
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)plugin);
  char *args[] = {"polyplug-launch", "--watch", pid, NULL};
  char *no_env[] = {NULL};
  execve("/proc/self/exe", args, no_env);
  kill(-getpgrp(), SIGKILL); /* cannot watch: a plugin that cannot be tied to its host does not run */
  _exit(126);
}

/* A plugin in the host's session would share its controlling terminal (a plugin able to open
 * /dev/tty could inject input with TIOCSTI): give it up. No terminal, or a session leader (a host
 * that started the launcher with setsid), leaves nothing to give up. */
static void drop_terminal(void) {
  if (getsid(0) == getpid()) return;
  int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) return;
  if (ioctl(tty, TIOCNOTTY) != 0) fail(126, "TIOCNOTTY", strerror(errno));
  close(tty);
}

static void tie_to_host(pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(126, "PR_SET_PDEATHSIG", strerror(errno));
  if (parent > 0 && getppid() != parent) _exit(126); /* the host died before the line above */
  if (getpgrp() != getpid() && setpgid(0, 0) != 0) fail(126, "setpgid", strerror(errno));
  drop_terminal();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail(126, "PR_SET_CHILD_SUBREAPER", strerror(errno));
  pid_t self = getpid();
  pid_t pid = fork();
  if (pid < 0) fail(126, "fork", strerror(errno));
  if (pid == 0) watchdog(self);
}

/* ---- Landlock ---- */

static __u64 fs_rights_for(int abi) {
  __u64 rights = LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR |
                 LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_BLOCK | LL_FS_MAKE_SYM;
  if (abi >= 2) rights |= LL_FS_REFER;
  if (abi >= 3) rights |= LL_FS_TRUNCATE;
  if (abi >= 5) rights |= LL_FS_IOCTL_DEV;
  return rights;
}

static void allow_path(int ruleset, const char *path, __u64 rights, __u64 handled) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return; /* a runtime folder this system does not have (/lib64, ...) */
  struct stat st;
  if (fstat(fd, &st) != 0) fail(126, "stat", path);
  if (!S_ISDIR(st.st_mode)) rights &= LL_FS_FILE_RIGHTS;
  struct ll_path_beneath_attr rule = {.allowed_access = rights & handled, .parent_fd = fd};
  if (rule.allowed_access && syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) != 0) fail(126, "landlock_add_rule", path);
  close(fd);
}

/* The program named by `name` on PATH (for "#!/usr/bin/env prog"), or NULL. */
static char *on_path(const char *name) {
  const char *path = getenv("PATH");
  static char found[PATH_MAX];
  if (!path || strchr(name, '/')) return NULL;
  for (const char *p = path; *p;) {
    const char *colon = strchrnul(p, ':');
    snprintf(found, sizeof found, "%.*s/%s", (int)(colon - p), p, name);
    if (access(found, X_OK) == 0) return found;
    p = *colon ? colon + 1 : colon;
  }
  return NULL;
}

/* Execute (and read) rights on a program and on whatever the kernel runs it with: its #!
 * interpreter (and the program `env` would run), and its ELF interpreter (ld.so). */
static void allow_program(int ruleset, const char *path, __u64 handled, int depth) {
  if (depth > 4) return;
  allow_path(ruleset, path, LL_FS_EXECUTE | LL_FS_READ_FILE, handled);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char head[512];
  ssize_t n = read(fd, head, sizeof head - 1);
  if (n > 2 && head[0] == '#' && head[1] == '!') {
    head[n] = 0;
    char *line = head + 2;
    line[strcspn(line, "\n")] = 0;
    char *interp = strtok(line, " \t");
    char *arg = strtok(NULL, " \t");
    if (interp) {
      char interp_copy[PATH_MAX];
      snprintf(interp_copy, sizeof interp_copy, "%s", interp);
      char *target = (arg && strcmp(strrchr(interp_copy, '/') ? strrchr(interp_copy, '/') + 1 : interp_copy, "env") == 0) ? on_path(arg) : NULL;
      char target_copy[PATH_MAX] = "";
      if (target) snprintf(target_copy, sizeof target_copy, "%s", target);
      allow_program(ruleset, interp_copy, handled, depth + 1);
      if (*target_copy) allow_program(ruleset, target_copy, handled, depth + 1);
    }
  } else if (n >= (ssize_t)sizeof(Elf64_Ehdr) && memcmp(head, ELFMAG, SELFMAG) == 0 && head[EI_CLASS] == ELFCLASS64) {
    Elf64_Ehdr eh;
    memcpy(&eh, head, sizeof eh);
    for (int i = 0; i < eh.e_phnum; i++) {
      Elf64_Phdr ph;
      if (pread(fd, &ph, sizeof ph, eh.e_phoff + (off_t)i * eh.e_phentsize) != sizeof ph) break;
      if (ph.p_type != PT_INTERP || ph.p_filesz >= PATH_MAX) continue;
      char interp[PATH_MAX];
      if (pread(fd, interp, ph.p_filesz, ph.p_offset) != (ssize_t)ph.p_filesz) break;
      interp[ph.p_filesz] = 0;
      allow_program(ruleset, interp, handled, depth + 1);
    }
  }
  close(fd);
}

static void sandbox(const char *program, int any_connect, int any_bind) {
  int abi = landlock_abi();
  if (abi < 1) return; /* no Landlock: the host refused, or the application opted out */
  struct ll_ruleset_attr attr = {.handled_access_fs = fs_rights_for(abi)};
  size_t size = sizeof attr.handled_access_fs;
  if (abi >= 4) {
    size = offsetof(struct ll_ruleset_attr, scoped);
    attr.handled_access_net = (any_bind ? 0 : LL_NET_BIND_TCP) | (any_connect ? 0 : LL_NET_CONNECT_TCP);
  }
  if (abi >= 6) {
    size = sizeof attr;
    attr.scoped = LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT_UNIX_SOCKET;
  }
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0) fail(126, "landlock_create_ruleset", strerror(errno));
  __u64 fs = attr.handled_access_fs;
  for (int i = 0; i < n_reads; i++) allow_path(ruleset, reads[i], LL_FS_READ, fs);
  for (int i = 0; i < n_execs; i++) allow_path(ruleset, execs[i], LL_FS_READ | LL_FS_EXECUTE, fs);
  for (int i = 0; i < n_writes; i++) allow_path(ruleset, writes[i], fs, fs);
  allow_program(ruleset, program, fs, 0);
  for (int i = 0; attr.handled_access_net && i < n_connects + n_binds; i++) {
    int bind = i >= n_connects;
    struct ll_net_port_attr rule = {.allowed_access = bind ? LL_NET_BIND_TCP : LL_NET_CONNECT_TCP, .port = bind ? binds[i - n_connects] : connects[i]};
    rule.allowed_access &= attr.handled_access_net;
    if (rule.allowed_access && syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &rule, 0) != 0) fail(126, "landlock_add_rule (port)", strerror(errno));
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(126, "PR_SET_NO_NEW_PRIVS", strerror(errno));
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) fail(126, "landlock_restrict_self", strerror(errno));
  close(ruleset);
}

/* ---- seccomp ---- */

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "polyplug-launch: no seccomp architecture for this CPU"
#endif

#define ARG0_LOW offsetof(struct seccomp_data, args[0]) /* little endian: the low 32 bits first */
#define ARG1_LOW offsetof(struct seccomp_data, args[1])
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* setsid/setpgid fail with EPERM; socket(AF_INET or AF_INET6, SOCK_DGRAM) fails with EACCES
 * unless `udp`; another ABI's system calls fail with ENOSYS. Everything else is allowed. */
static void restrict_syscalls(int udp) {
  struct sock_filter filter[] = {
    /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
    /* 2 */ BPF_STMT(BPF_RET | BPF_K, ERRNO(ENOSYS)),
    /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __X32_SYSCALL_BIT
    /* 4 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
    /* 5 */ BPF_STMT(BPF_RET | BPF_K, ERRNO(ENOSYS)),
#else
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#endif
    /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setsid, 2, 0),
    /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setpgid, 1, 0),
    /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 2, 1),
    /* 9 */ BPF_STMT(BPF_RET | BPF_K, ERRNO(EPERM)),
    /* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 11: socket(domain, type, protocol) */
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LOW),
    /* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 1, 0),
    /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 4),
    /* 14 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG1_LOW),
    /* 15 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf), /* the type without SOCK_NONBLOCK, SOCK_CLOEXEC */
    /* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_DGRAM, 0, 1),
    /* 17 */ BPF_STMT(BPF_RET | BPF_K, udp ? SECCOMP_RET_ALLOW : ERRNO(EACCES)),
    /* 18 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {.len = sizeof filter / sizeof filter[0], .filter = filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(126, "PR_SET_NO_NEW_PRIVS", strerror(errno));
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) fail(126, "seccomp", strerror(errno));
}

int main(int argc, char **argv) {
  pid_t parent = 0;
  long mem_mb = 0, need_abi = 0;
  int any_connect = 0, any_bind = 0, udp = 0, i = 1;
  if (argc == 3 && strcmp(argv[1], "--watch") == 0) return watch((pid_t)number(argv[2], argv[1]));
  if (argc == 2 && strcmp(argv[1], "--abi") == 0) {
    printf("%d\n", landlock_abi());
    return 0;
  }
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *flag = argv[i];
    if (strcmp(flag, "--any-connect") == 0) {
      any_connect = 1;
      continue;
    }
    if (strcmp(flag, "--any-bind") == 0) {
      any_bind = 1;
      continue;
    }
    if (strcmp(flag, "--udp") == 0) {
      udp = 1;
      continue;
    }
    if (i + 1 >= argc) fail(126, "missing value after", flag);
    const char *value = argv[++i];
    if (strcmp(flag, "--parent") == 0) parent = (pid_t)number(value, flag);
    else if (strcmp(flag, "--read") == 0) push(reads, &n_reads, value);
    else if (strcmp(flag, "--write") == 0) push(writes, &n_writes, value);
    else if (strcmp(flag, "--exec") == 0) push(execs, &n_execs, value);
    else if (strcmp(flag, "--connect") == 0 && n_connects < MAX_ITEMS) connects[n_connects++] = number(value, flag);
    else if (strcmp(flag, "--bind") == 0 && n_binds < MAX_ITEMS) binds[n_binds++] = number(value, flag);
    else if (strcmp(flag, "--mem-mb") == 0) mem_mb = (long)number(value, flag);
    else if (strcmp(flag, "--need-abi") == 0) need_abi = (long)number(value, flag);
    else fail(126, "unknown option", flag);
  }
  if (i + 1 >= argc) fail(126, "usage", "polyplug-launch [options] -- /path/to/program [args...]");
  char **program = argv + i + 1;
  if (program[0][0] != '/') fail(126, "the program must be an absolute path", program[0]);

  if (need_abi > 0) {
    int abi = landlock_abi();
    if (abi < need_abi) {
      fprintf(stderr, "polyplug-launch: Landlock ABI %d, needs %ld\n", abi, need_abi);
      _exit(125);
    }
  }
  tie_to_host(parent);
  if (mem_mb > 0) {
    struct rlimit limit = {.rlim_cur = (rlim_t)mem_mb << 20, .rlim_max = (rlim_t)mem_mb << 20};
    if (setrlimit(RLIMIT_AS, &limit) != 0) fail(126, "setrlimit(RLIMIT_AS)", strerror(errno));
  }
  sandbox(program[0], any_connect, any_bind);
  restrict_syscalls(udp);
  execve(program[0], program, environ);
  int error = errno;
  fprintf(stderr, "polyplug-launch: cannot execute %s: %s\n", program[0], strerror(error));
  return error == ENOENT ? 127 : 126;
}
