// plumb-monitor: the process that holds one container, as containerd-shim or
// conmon do for Docker and Podman. plumb has no daemon, so something small
// must outlive the CLI: it owns the container's terminal (or its stdin/stdout/
// stderr pipes), writes every byte of output to a log file, serves `plumb
// attach` on a unix socket, records the exit status and time, and ends the
// rest of the container's cgroup when its main process ends.
//
//   plumb-monitor run --log FILE --exit FILE --sock PATH [--cgroup DIR]
//                     [--tty] [--stdin] [--wait-attach] [--size ROWSxCOLS]
//                     [--netns FILE] [--uts FILE] [--fstab FILE] [--detach DIR]... [--root DIR] -- ARGV...
//   plumb-monitor enter --cgroup DIR -- ARGV...    join the cgroup, then exec
//   plumb-monitor pause                            hold namespaces until signalled
//
// `run` expects fd 3 to be a pipe to its starter: it writes "pid N\n" there,
// and the child, once it has joined the namespaces, made the mounts and
// entered the root that --netns, --uts, --fstab and --root name (init.c),
// says "ready" (or "error ...") there; fd 3 closes when ARGV is exec'd.
//
// Log format: one record per line, the CRI format conmon writes:
//   2026-12-07T03:50:00.123456789Z stdout F hello
// F ends a line (its newline is not stored), P is a partial line (a prompt).
//
// Attach protocol: a client's first line is "attach\n" (then raw input bytes
// in, raw output bytes out), "attach mux\n" (output framed per stream with
// Docker's 8-byte header) or "resize ROWS COLS\n" (then it hangs up).
// --wait-attach holds the command until the first client attached, so a
// foreground `plumb run` misses none of its output.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define MAX_CLIENTS 32
#define STATUS_FD 3

struct client {
  int fd;
  int attached;          // header read and it was "attach"
  int mux;               // "attach mux": output framed with its stream, as Docker's attach without a tty
  int once;              // "attach ... once": the container's stdin closes when this client's input ends (run -i)
  int inputDone;         // the client shut its sending side: it still receives output
  char head[64];
  size_t headLen;
};

static const char *logPath, *exitPath, *sockPath, *cgroupDir;
static int useTty, keepStdin, waitAttach, rows, cols;
static struct initSpec init;
static int gateW = -1;  // --wait-attach: the child starts when the first client attaches
static int logFd = -1;
static struct client clients[MAX_CLIENTS];
static int nClients;

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dprintf(STATUS_FD, "error %s\n", msg);
  dprintf(2, "plumb-monitor: %s\n", msg);
  exit(125);
}

static int writeAll(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static void nowText(char *out, size_t size) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, size, "%s.%09ldZ", base, ts.tv_nsec);
}

static void logRecord(const char *stream, char kind, const char *data, size_t len) {
  char head[96];
  char ts[48];
  nowText(ts, sizeof ts);
  int n = snprintf(head, sizeof head, "%s %s %c ", ts, stream, kind);
  // One writev-sized buffer so a reader never sees half a record header.
  char *rec = malloc((size_t)n + len + 1);
  if (!rec) return;
  memcpy(rec, head, (size_t)n);
  memcpy(rec + n, data, len);
  rec[(size_t)n + len] = '\n';
  writeAll(logFd, rec, (size_t)n + len + 1);
  free(rec);
}

// Splits a chunk of output into full lines (F) and a trailing partial (P).
static void logChunk(const char *stream, const char *buf, size_t len) {
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '\n') {
      logRecord(stream, 'F', buf + start, i - start);
      start = i + 1;
    }
  }
  if (start < len) logRecord(stream, 'P', buf + start, len - start);
}

static void dropClient(int i) {
  close(clients[i].fd);
  clients[i] = clients[--nClients];
}

// Sends everything, waiting a little for a slow reader; one that stays stuck is dropped
// rather than stalling the container.
static int sendAll(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return -1;
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      if (poll(&p, 1, 2000) <= 0) return -1;
      continue;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static void broadcast(int stream, const char *buf, size_t len) {
  // Docker's multiplexed stream header: stream (1 stdout, 2 stderr), three zero bytes, big-endian length.
  unsigned char head[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
  for (int i = 0; i < nClients; i++) {
    if (!clients[i].attached) continue;
    if ((clients[i].mux && sendAll(clients[i].fd, (const char *)head, 8) < 0) || sendAll(clients[i].fd, buf, len) < 0) {
      dropClient(i);
      i--;
    }
  }
}

static void setWinsize(int fd, int r, int c) {
  if (r <= 0 || c <= 0) return;
  struct winsize ws = {.ws_row = (unsigned short)r, .ws_col = (unsigned short)c};
  ioctl(fd, TIOCSWINSZ, &ws);
}

static int listenOn(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket: %s", strerror(errno));
  // A long run directory would not fit sun_path: bind by a name relative to its directory.
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  const char *base = path;
  int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (slash) {
    *slash = 0;
    base = slash + 1;
    if (chdir(dir[0] ? dir : "/") < 0) die("chdir %s: %s", dir, strerror(errno));
  }
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(base) >= sizeof sa.sun_path) die("socket name too long: %s", base);
  strcpy(sa.sun_path, base);
  unlink(base);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind %s: %s", path, strerror(errno));
  chmod(base, 0600);
  if (listen(fd, 8) < 0) die("listen: %s", strerror(errno));
  if (here >= 0) {
    if (fchdir(here) < 0) { /* the cwd only matters for relative paths, which were resolved above */ }
    close(here);
  }
  return fd;
}

static void writeFileAtomic(const char *path, const char *text) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  writeAll(fd, text, strlen(text));
  close(fd);
  rename(tmp, path);
}

static int cgroupPopulated(void) {
  char path[4200], buf[256];
  snprintf(path, sizeof path, "%s/cgroup.events", cgroupDir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  return strstr(buf, "populated 1") != NULL;
}

// The main process has ended: like the end of a PID namespace's init, every
// other process of the container goes too, then the cgroup itself.
static void endCgroup(void) {
  if (!cgroupDir) return;
  char path[4200];
  snprintf(path, sizeof path, "%s/cgroup.kill", cgroupDir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    writeAll(fd, "1", 1);
    close(fd);
  }
  // The kill takes effect within a millisecond or so: `plumb rm` waits for this monitor to end.
  for (int i = 0; i < 5000 && cgroupPopulated(); i++) usleep(1000);
  rmdir(cgroupDir);
}

static void joinCgroup(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || writeAll(fd, "0", 1) < 0) die("join cgroup %s: %s", dir, strerror(errno));
  close(fd);
}

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static int cmdRun(char **argv) {
  logFd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (logFd < 0) die("open %s: %s", logPath, strerror(errno));
  int listenFd = listenOn(sockPath);

  int slaveKeep = -1, master = -1, outR = -1, outW = -1, errR = -1, errW = -1, inR = -1, inW = -1;
  char *slaveName = NULL;
  if (useTty) {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) die("pseudo-terminal: %s", strerror(errno));
    slaveName = ptsname(master);
    if (!slaveName) die("ptsname: %s", strerror(errno));
    slaveName = strdup(slaveName);
    setWinsize(master, rows ? rows : 24, cols ? cols : 80);
    // The monitor holds the terminal open too, so the master never reads EIO before the child opened it.
    slaveKeep = open(slaveName, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slaveKeep < 0) die("open %s: %s", slaveName, strerror(errno));
  } else {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
    outR = p[0], outW = p[1];
    if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
    errR = p[0], errW = p[1];
    if (keepStdin) {
      if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
      inR = p[0], inW = p[1];
    }
  }

  int gateR = -1;
  if (waitAttach) {
    int g[2];
    if (pipe2(g, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
    gateR = g[0], gateW = g[1];
  }

  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, &old);
  int sigFd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);

  pid_t child = fork();
  if (child < 0) die("fork: %s", strerror(errno));
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    if (cgroupDir) joinCgroup(cgroupDir);
    if (useTty) {
      int slave = open(slaveName, O_RDWR);
      if (slave < 0) die("open %s: %s", slaveName, strerror(errno));
      ioctl(slave, TIOCSCTTY, 0);
      dup2(slave, 0), dup2(slave, 1), dup2(slave, 2);
      if (slave > 2) close(slave);
    } else {
      int in = inR >= 0 ? inR : open("/dev/null", O_RDONLY);
      dup2(in, 0), dup2(outW, 1), dup2(errW, 2);
    }
    if (gateR >= 0) {
      // Starts when the gate's write end closes: the first client attached (or the monitor died).
      close(gateW);
      char b;
      while (read(gateR, &b, 1) < 0 && errno == EINTR) {}
      close(gateR);
    }
    char why[512];
    if (containerInit(&init, why, sizeof why) < 0) {
      dprintf(STATUS_FD, "error %s\n", why);
      dprintf(2, "plumb-monitor: %s\n", why);
      _exit(125);
    }
    // fd 3 closes with the exec; if the exec fails, the launcher hears why after "ready".
    fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);
    dprintf(STATUS_FD, "ready\n");
    execvp(argv[0], argv);
    dprintf(STATUS_FD, "error exec %s: %s\n", argv[0], strerror(errno));
    dprintf(2, "plumb-monitor: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  dprintf(STATUS_FD, "pid %d\n", (int)child);
  close(STATUS_FD);
  if (gateR >= 0) close(gateR);
  if (outW >= 0) close(outW);
  if (errW >= 0) close(errW);
  if (inR >= 0) close(inR);
  // Without -i, the container's stdin is /dev/null; a tty still takes input from attach.
  int inputFd = useTty ? master : inW;
  if (useTty) nonblock(master);
  if (outR >= 0) nonblock(outR);
  if (errR >= 0) nonblock(errR);

  int status = 0, exited = 0;
  char buf[16384];
  while (!exited || (master >= 0) || outR >= 0 || errR >= 0) {
    struct pollfd pfd[4 + MAX_CLIENTS];
    int n = 0;
    pfd[n++] = (struct pollfd){.fd = sigFd, .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = exited ? -1 : listenFd, .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = useTty ? master : outR, .events = POLLIN};
    pfd[n++] = (struct pollfd){.fd = useTty ? -1 : errR, .events = POLLIN};
    for (int i = 0; i < nClients; i++) pfd[n++] = (struct pollfd){.fd = clients[i].fd, .events = clients[i].inputDone ? 0 : POLLIN};
    // Once the main process is gone, output still buffered is drained, but never waited for long:
    // a background process that kept the pipe open has been killed with the cgroup.
    int r = poll(pfd, (nfds_t)n, exited ? 200 : -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (r == 0 && exited) break;
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigFd, &si, sizeof si) > 0) {}
      int st;
      pid_t w;
      while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
        if (w == child) {
          status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
          exited = 1;
          endCgroup();
          if (slaveKeep >= 0) close(slaveKeep), slaveKeep = -1;
        }
      }
    }
    if (pfd[1].revents & POLLIN) {
      int c = accept4(listenFd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c >= 0) {
        if (nClients < MAX_CLIENTS) clients[nClients++] = (struct client){.fd = c};
        else close(c);
      }
    }
    const char *streams[2] = {"stdout", "stderr"};
    for (int s = 0; s < 2; s++) {
      struct pollfd *p = &pfd[2 + s];
      if (p->fd < 0 || !(p->revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(p->fd, buf, sizeof buf);
      if (got > 0) {
        logChunk(streams[s], buf, (size_t)got);
        broadcast(s + 1, buf, (size_t)got);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        // EOF on a pipe, EIO on a pty whose last holder closed it.
        if (useTty) {
          if (exited) close(master), master = -1;
          else usleep(10000);  // cannot happen while slaveKeep is open; never spin
        } else if (s == 0) close(outR), outR = -1;
        else close(errR), errR = -1;
      }
    }
    for (int i = 4; i < n; i++) {
      if (!pfd[i].revents) continue;
      int ci = -1;
      for (int k = 0; k < nClients; k++)
        if (clients[k].fd == pfd[i].fd) ci = k;
      if (ci < 0) continue;
      struct client *cl = &clients[ci];
      if (cl->inputDone) {
        // Only POLLHUP/POLLERR reach here: the client is gone.
        if (pfd[i].revents & (POLLHUP | POLLERR)) dropClient(ci);
        continue;
      }
      ssize_t got = read(cl->fd, buf, sizeof buf);
      if (got == 0 && cl->attached) {
        cl->inputDone = 1;
        if (cl->once && !useTty && inW >= 0) close(inW), inW = -1, inputFd = -1;
        continue;
      }
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        dropClient(ci);
        continue;
      }
      size_t off = 0;
      if (!cl->attached) {
        while (off < (size_t)got && cl->headLen < sizeof cl->head - 1 && buf[off] != '\n') cl->head[cl->headLen++] = buf[off++];
        if (off >= (size_t)got) continue;
        off++;  // the newline
        cl->head[cl->headLen] = 0;
        int r2, c2;
        if (sscanf(cl->head, "resize %d %d", &r2, &c2) == 2) {
          if (useTty) setWinsize(master, r2, c2);
          dropClient(ci);
          continue;
        }
        if (strncmp(cl->head, "attach", 6) != 0) {
          dropClient(ci);
          continue;
        }
        cl->attached = 1;
        cl->mux = strstr(cl->head, " mux") != NULL;
        cl->once = strstr(cl->head, " once") != NULL;
        if (gateW >= 0) close(gateW), gateW = -1;
      }
      if (off < (size_t)got && inputFd >= 0 && !exited) writeAll(inputFd, buf + off, (size_t)got - off);
    }
  }
  if (!exited) {
    int st;
    waitpid(child, &st, 0);
    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    endCgroup();
  }
  char ts[48], text[96];
  nowText(ts, sizeof ts);
  snprintf(text, sizeof text, "%d %s\n", status, ts);
  writeFileAtomic(exitPath, text);
  unlink(sockPath);
  // Attached clients see the end of the stream once the status is on disk.
  for (int i = 0; i < nClients; i++) close(clients[i].fd);
  close(logFd);
  return 0;
}

// A sandbox without COMMAND still needs a process, so State.Pid and
// `nsenter -t PID` work (Docker's pause process does the same).
static int cmdPause(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}

static int cmdEnter(char **argv) {
  if (cgroupDir) joinCgroup(cgroupDir);
  execvp(argv[0], argv);
  dprintf(2, "plumb-monitor: exec %s: %s\n", argv[0], strerror(errno));
  return 127;
}

static void usage(void) {
  dprintf(2, "usage: plumb-monitor run --log FILE --exit FILE --sock PATH [--cgroup DIR] [--tty] [--stdin] [--wait-attach] [--size RxC]\n"
             "                         [--netns FILE] [--uts FILE] [--fstab FILE] [--detach DIR]... [--root DIR] -- ARGV...\n"
             "       plumb-monitor enter --cgroup DIR -- ARGV...\n"
             "       plumb-monitor pause\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  const char *mode = argv[1];
  if (strcmp(mode, "pause") == 0) return cmdPause();
  int i = 2;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (strcmp(a, "--tty") == 0) useTty = 1;
    else if (strcmp(a, "--wait-attach") == 0) waitAttach = 1;
    else if (strcmp(a, "--stdin") == 0) keepStdin = 1;
    else if (i + 1 < argc && strcmp(a, "--log") == 0) logPath = argv[++i];
    else if (i + 1 < argc && strcmp(a, "--exit") == 0) exitPath = argv[++i];
    else if (i + 1 < argc && strcmp(a, "--sock") == 0) sockPath = argv[++i];
    else if (i + 1 < argc && strcmp(a, "--cgroup") == 0) cgroupDir = argv[++i];
    else if (i + 1 < argc && strcmp(a, "--netns") == 0) init.netns = argv[++i];
    else if (i + 1 < argc && strcmp(a, "--uts") == 0) init.uts = argv[++i];
    else if (i + 1 < argc && strcmp(a, "--fstab") == 0) init.fstab = argv[++i];
    else if (i + 1 < argc && strcmp(a, "--root") == 0) init.root = argv[++i];
    else if (i + 1 < argc && strcmp(a, "--detach") == 0) {
      if (init.detachCount == MAX_DETACH) usage();
      init.detach[init.detachCount++] = argv[++i];
    }
    else if (i + 1 < argc && strcmp(a, "--size") == 0) {
      if (sscanf(argv[++i], "%dx%d", &rows, &cols) != 2) usage();
    } else usage();
  }
  if (i >= argc) usage();
  if (strcmp(mode, "enter") == 0) return cmdEnter(argv + i);
  if (strcmp(mode, "run") != 0 || !logPath || !exitPath || !sockPath) usage();
  return cmdRun(argv + i);
}
