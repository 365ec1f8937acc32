// The container's first process, set up by plumb-monitor itself between fork
// and exec (init.c): what `nsenter --net --uts`, `unshare --mount
// --propagation private`, `mount -a -T FSTAB` and `chroot` would do, without
// starting those programs one after another.
#ifndef PLUMB_MONITOR_INIT_H
#define PLUMB_MONITOR_INIT_H

#define MAX_DETACH 8

struct initSpec {
  const char *netns;  // network namespace file to join, or NULL
  const char *uts;    // UTS namespace file to join, or NULL
  const char *fstab;  // mounts to make in a new private mount namespace, or NULL (no mount namespace)
  const char *root;   // directory to chroot into before exec, or NULL
  // Mount points the new mount namespace lets go of before the fstab's mounts
  // (plumb's directories of namespace files): see containerInit.
  const char *detach[MAX_DETACH];
  int detachCount;
};

// Sets the calling process up as `spec` says. Returns 0, or -1 with a message in `why`.
int containerInit(const struct initSpec *spec, char *why, unsigned long whySize);

#endif
