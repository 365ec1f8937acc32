// plumb's native addon: the few system calls Node cannot make on its own.
// Only setns, unshare, mount, umount2, gettid, getrandom, flock, a netlink
// socket's open/request and a bound inet socket live here; everything else (message layout, parsing, policy)
// stays in TypeScript. Every failure throws an Error carrying errno, code
// (EPERM, ...) and the syscall name so callers can decide what it means.
#include <chrono>
#include <csignal>
#include <thread>
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <string>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

namespace {

const char* ErrnoCode(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    case ENOSPC: return "ENOSPC";
    case EUSERS: return "EUSERS";
    case EAGAIN: return "EAGAIN";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENOBUFS: return "ENOBUFS";
    default: return "EUNKNOWN";
  }
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& detail) {
  std::string message = std::string(syscall) + " failed: " + std::strerror(err);
  if (!detail.empty()) message += " (" + detail + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", Napi::String::New(env, ErrnoCode(err)));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool RequireArgs(const Napi::CallbackInfo& info, size_t count, const char* usage) {
  if (info.Length() < count) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

std::string OptionalString(const Napi::Value& value) {
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  return std::string();
}

// setns(fd, nstype): moves the calling thread (Node's main thread) into the namespace.
Napi::Value SetNs(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 2, "setns(fd: number, nstype: number)")) return info.Env().Undefined();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int nstype = info[1].As<Napi::Number>().Int32Value();
  if (setns(fd, nstype) != 0) return ThrowErrno(info.Env(), "setns", errno, "fd " + std::to_string(fd));
  return info.Env().Undefined();
}

// unshare(flags): gives the calling thread fresh namespaces of the given kinds.
Napi::Value Unshare(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 1, "unshare(flags: number)")) return info.Env().Undefined();
  int flags = info[0].As<Napi::Number>().Int32Value();
  if (unshare(flags) != 0) return ThrowErrno(info.Env(), "unshare", errno, "flags 0x" + std::to_string(flags));
  return info.Env().Undefined();
}

// mount(source, target, fstype, flags, data): source/fstype/data may be null.
Napi::Value Mount(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 4, "mount(source, target, fstype, flags, data?)")) return info.Env().Undefined();
  std::string source = OptionalString(info[0]);
  std::string target = info[1].As<Napi::String>().Utf8Value();
  std::string fstype = OptionalString(info[2]);
  unsigned long flags = static_cast<unsigned long>(info[3].As<Napi::Number>().Int64Value());
  std::string data = info.Length() > 4 ? OptionalString(info[4]) : std::string();
  int rc = mount(info[0].IsString() ? source.c_str() : nullptr, target.c_str(),
                 info[2].IsString() ? fstype.c_str() : nullptr, flags,
                 data.empty() ? nullptr : data.c_str());
  if (rc != 0) return ThrowErrno(info.Env(), "mount", errno, source + " -> " + target);
  return info.Env().Undefined();
}

// umount2(target, flags): MNT_DETACH (2) is what namespace removal uses.
Napi::Value Umount2(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 2, "umount2(target: string, flags: number)")) return info.Env().Undefined();
  std::string target = info[0].As<Napi::String>().Utf8Value();
  int flags = info[1].As<Napi::Number>().Int32Value();
  if (umount2(target.c_str(), flags) != 0) return ThrowErrno(info.Env(), "umount2", errno, target);
  return info.Env().Undefined();
}

// gettid(): namespaces belong to threads; /proc/self/task/<tid>/ns/* names the main thread's.
Napi::Value GetTid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

// nlOpen(protocol, timeoutMs): a netlink socket in the calling thread's network
// namespace (it stays bound to it), its port id chosen by the kernel. Replies
// are read blocking, for at most timeoutMs per datagram.
Napi::Value NlOpen(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 2, "nlOpen(protocol: number, timeoutMs: number)")) return info.Env().Undefined();
  int protocol = info[0].As<Napi::Number>().Int32Value();
  int timeoutMs = info[1].As<Napi::Number>().Int32Value();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ThrowErrno(info.Env(), "socket", errno, "netlink protocol " + std::to_string(protocol));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(info.Env(), "bind", err, "netlink socket");
  }
  return Napi::Number::New(info.Env(), fd);
}

// True when `buf` holds the message that ends the answer to `seq`: an error or
// acknowledgement (NLMSG_ERROR), or the end of a dump (NLMSG_DONE).
bool EndsAnswer(const char* buf, size_t len, uint32_t seq) {
  size_t off = 0;
  while (off + sizeof(nlmsghdr) <= len) {
    const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf + off);
    if (h->nlmsg_len < sizeof(nlmsghdr) || off + h->nlmsg_len > len) return false;
    if (h->nlmsg_seq == seq && (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE)) return true;
    off += NLMSG_ALIGN(h->nlmsg_len);
  }
  return false;
}

// nlRequest(fd, message): sends one complete netlink message (header included,
// NLM_F_ACK set by the caller) to the kernel and returns every datagram read
// until the one that ends the answer to its sequence number. Synchronous: the
// kernel handles rtnetlink requests while sendmsg runs, so the answer is
// already queued when it returns, and waiting for it through the event loop
// costs more than the request itself.
Napi::Value NlRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!RequireArgs(info, 2, "nlRequest(fd: number, message: Buffer)")) return env.Undefined();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> message = info[1].As<Napi::Buffer<char>>();
  if (message.Length() < sizeof(nlmsghdr)) {
    Napi::TypeError::New(env, "nlRequest: message shorter than a netlink header").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t seq = reinterpret_cast<const nlmsghdr*>(message.Data())->nlmsg_seq;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(fd, message.Data(), message.Length(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return ThrowErrno(env, "sendto", errno, "netlink request");
  // A dump's datagrams are at most 32 KiB (the kernel's cap); 64 KiB leaves room.
  static std::vector<char> buf(64 * 1024);
  Napi::Array out = Napi::Array::New(env);
  for (uint32_t n = 0;; n++) {
    ssize_t got;
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    do {
      got = recvmsg(fd, &msg, 0);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return ThrowErrno(env, "recvmsg", errno, "netlink answer");
    if (msg.msg_flags & MSG_TRUNC) return ThrowErrno(env, "recvmsg", EMSGSIZE, "netlink answer larger than the buffer");
    out.Set(n, Napi::Buffer<char>::Copy(env, buf.data(), static_cast<size_t>(got)));
    if (EndsAnswer(buf.data(), static_cast<size_t>(got), seq)) return out;
  }
}

// inetSocket(kind, ip, port): an IPv4 socket of the calling thread's network
// namespace (it stays bound to it), non-blocking, bound to ip:port, listening
// when kind is "tcp". The resolver opens its sockets inside a sandbox this way,
// in a namespace window, and hands the descriptor to Node (dgram and net adopt
// an open descriptor; they cannot create one in another namespace, as their
// own binds run later, outside the window).
Napi::Value InetSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!RequireArgs(info, 3, "inetSocket(kind: 'udp' | 'tcp', ip: string, port: number)")) return env.Undefined();
  std::string kind = info[0].As<Napi::String>().Utf8Value();
  std::string ip = info[1].As<Napi::String>().Utf8Value();
  int port = info[2].As<Napi::Number>().Int32Value();
  bool tcp = kind == "tcp";
  if (!tcp && kind != "udp") {
    Napi::TypeError::New(env, "inetSocket: kind must be udp or tcp").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (port < 0 || port > 65535 || inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    Napi::TypeError::New(env, "inetSocket: not an IPv4 address and port: " + ip + ":" + std::to_string(port)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string where = kind + " " + ip + ":" + std::to_string(port);
  int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno, where);
  // TCP: a restarted resolver binds again while the old one's closed connections
  // sit in TIME_WAIT. Not for UDP, where it would let a second socket share the port.
  int one = 1;
  if (tcp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "setsockopt", err, where);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "bind", err, where);
  }
  if (tcp && listen(fd, 128) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "listen", err, where);
  }
  return Napi::Number::New(env, fd);
}

// closeFd(fd): closes a descriptor inetSocket gave that Node never adopted.
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 1, "closeFd(fd: number)")) return info.Env().Undefined();
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// getrandom(length): that many bytes from the kernel's random pool (as
// /dev/urandom gives them), without loading Node's crypto module (~4 ms of a
// plumb process's start) for the few IDs and MACs an operation draws.
Napi::Value GetRandom(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 1, "getrandom(length: number)")) return info.Env().Undefined();
  size_t length = static_cast<size_t>(info[0].As<Napi::Number>().Uint32Value());
  Napi::Buffer<char> out = Napi::Buffer<char>::New(info.Env(), length);
  for (size_t got = 0; got < length;) {
    ssize_t n = getrandom(out.Data() + got, length - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ThrowErrno(info.Env(), "getrandom", errno, std::to_string(length) + " bytes");
    }
    got += static_cast<size_t>(n);
  }
  return out;
}

// flock(fd, operation): flock(2). True when done; false when LOCK_NB was
// given and another open file holds the lock (EWOULDBLOCK).
Napi::Value Flock(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 2, "flock(fd: number, operation: number)")) return info.Env().Undefined();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int operation = info[1].As<Napi::Number>().Int32Value();
  int r;
  do {
    r = flock(fd, operation);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return Napi::Boolean::New(info.Env(), true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(info.Env(), false);
  return ThrowErrno(info.Env(), "flock", errno, "fd " + std::to_string(fd));
}

// killSelfAfter(us): SIGKILLs this process `us` microseconds from now, from a
// thread of its own, whatever the JavaScript thread is doing then (even inside
// a synchronous netlink request or a namespace window). Only crash tests use it
// (PLUMB_CRASH_AFTER_LOCK_US): a kill at a truly random moment.
Napi::Value KillSelfAfter(const Napi::CallbackInfo& info) {
  if (!RequireArgs(info, 1, "killSelfAfter(us: number)")) return info.Env().Undefined();
  long long us = static_cast<long long>(info[0].As<Napi::Number>().DoubleValue());
  std::thread([us]() {
    std::this_thread::sleep_for(std::chrono::microseconds(us));
    kill(getpid(), SIGKILL);
  }).detach();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("killSelfAfter", Napi::Function::New(env, KillSelfAfter));
  exports.Set("setns", Napi::Function::New(env, SetNs));
  exports.Set("unshare", Napi::Function::New(env, Unshare));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount2", Napi::Function::New(env, Umount2));
  exports.Set("gettid", Napi::Function::New(env, GetTid));
  exports.Set("getrandom", Napi::Function::New(env, GetRandom));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("nlOpen", Napi::Function::New(env, NlOpen));
  exports.Set("nlRequest", Napi::Function::New(env, NlRequest));
  exports.Set("inetSocket", Napi::Function::New(env, InetSocket));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  return exports;
}

}  // namespace

NODE_API_MODULE(plumb_native, Init)
