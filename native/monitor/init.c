// Sets up a container's first process in the child plumb-monitor forks,
// before it execs the command (see init.h). The fstab is written by plumb
// (src/kernel/container-init.ts), which decides what is mounted; this file
// only performs it, entry by entry, in the file's order, as `mount -a` does:
//
//   nsenter --net=NETNS --uts=UTS -- unshare --mount --propagation private -- \
//     sh -c 'mount -n -a -T FSTAB && exec chroot ROOT COMMAND...'
//
// Options: ro, rw, nosuid, nodev, noexec, bind, rbind become mount flags; any
// other option (mode=1777) is passed to the filesystem as data. A bind with
// flags is a bind and then a remount of that bind, as mount(8) does it.
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int fail(char *why, unsigned long size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, size, fmt, ap);
  va_end(ap);
  return -1;
}

static int joinNamespace(const char *path, int type, const char *what, char *why, unsigned long size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(why, size, "open %s namespace %s: %s", what, path, strerror(errno));
  int r = setns(fd, type);
  int e = errno;
  close(fd);
  if (r < 0) return fail(why, size, "join %s namespace %s: %s", what, path, strerror(e));
  return 0;
}

struct option {
  const char *name;
  unsigned long set;
  unsigned long clear;
};

static const struct option OPTIONS[] = {
    {"ro", MS_RDONLY, 0},     {"rw", 0, MS_RDONLY},     {"nosuid", MS_NOSUID, 0}, {"nodev", MS_NODEV, 0},
    {"noexec", MS_NOEXEC, 0}, {"bind", MS_BIND, 0},     {"rbind", MS_BIND | MS_REC, 0},
    {"defaults", 0, 0},
};

// Splits a mount option list into flags and the filesystem's own data.
static void parseOptions(const char *opts, unsigned long *flags, char *data, size_t dataSize) {
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", opts);
  *flags = 0;
  data[0] = 0;
  char *save = NULL;
  for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
    size_t i = 0;
    for (; i < sizeof OPTIONS / sizeof OPTIONS[0]; i++) {
      if (strcmp(o, OPTIONS[i].name) == 0) {
        *flags = (*flags & ~OPTIONS[i].clear) | OPTIONS[i].set;
        break;
      }
    }
    if (i == sizeof OPTIONS / sizeof OPTIONS[0]) {
      size_t used = strlen(data);
      snprintf(data + used, dataSize - used, "%s%s", used ? "," : "", o);
    }
  }
}

static int mountEntry(const struct mntent *m, char *why, unsigned long size) {
  unsigned long flags;
  char data[1024];
  parseOptions(m->mnt_opts, &flags, data, sizeof data);
  if (flags & MS_BIND) {
    if (mount(m->mnt_fsname, m->mnt_dir, NULL, flags & (MS_BIND | MS_REC), NULL) < 0) {
      return fail(why, size, "mount --bind %s %s: %s", m->mnt_fsname, m->mnt_dir, strerror(errno));
    }
    // A bind takes no other flag: read-only and the rest come with a remount of the bind itself.
    unsigned long rest = flags & ~(MS_BIND | MS_REC);
    if (rest && mount(NULL, m->mnt_dir, NULL, MS_REMOUNT | MS_BIND | rest, NULL) < 0) {
      return fail(why, size, "mount -o remount,bind,%s %s: %s", m->mnt_opts, m->mnt_dir, strerror(errno));
    }
    return 0;
  }
  if (mount(m->mnt_fsname, m->mnt_dir, m->mnt_type, flags, data[0] ? data : NULL) < 0) {
    return fail(why, size, "mount -t %s %s %s: %s", m->mnt_type, m->mnt_fsname, m->mnt_dir, strerror(errno));
  }
  return 0;
}

static int mountAll(const char *fstab, char *why, unsigned long size) {
  FILE *f = setmntent(fstab, "re");
  if (!f) return fail(why, size, "open %s: %s", fstab, strerror(errno));
  struct mntent *m;
  int r = 0;
  while (r == 0 && (m = getmntent(f)) != NULL) r = mountEntry(m, why, size);
  endmntent(f);
  return r;
}

int containerInit(const struct initSpec *spec, char *why, unsigned long size) {
  if (spec->netns && joinNamespace(spec->netns, CLONE_NEWNET, "network", why, size) < 0) return -1;
  if (spec->uts && joinNamespace(spec->uts, CLONE_NEWUTS, "UTS", why, size) < 0) return -1;
  if (spec->fstab) {
    if (unshare(CLONE_NEWNS) < 0) return fail(why, size, "unshare the mount namespace: %s", strerror(errno));
    // Nothing mounted here may reach the host's namespace, nor the host's later mounts this one.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return fail(why, size, "make / private: %s", strerror(errno));
    // The copy holds every other sandbox's namespace files. Kept, each later
    // unlink of one on the host would have to detach it here too (the kernel
    // does that for every namespace holding a copy), so removing a sandbox
    // would cost O(containers), and each copy is kernel memory for as long as
    // this container runs. A container has no use for them: let them go.
    for (int d = 0; d < spec->detachCount; d++) {
      if (umount2(spec->detach[d], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
        return fail(why, size, "umount -l %s: %s", spec->detach[d], strerror(errno));
      }
    }
    if (mountAll(spec->fstab, why, size) < 0) return -1;
  }
  if (spec->root) {
    if (chroot(spec->root) < 0) return fail(why, size, "chroot %s: %s", spec->root, strerror(errno));
    if (chdir("/") < 0) return fail(why, size, "chdir / in %s: %s", spec->root, strerror(errno));
  }
  return 0;
}
