// plumb's native addon: the few system calls Node cannot make on its own.
// Only setns, unshare, mount, umount2 and gettid live here; everything else
// stays in TypeScript. Every failure throws an Error carrying errno, code
// (EPERM, ...) and the syscall name so callers can decide what it means.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setns", Napi::Function::New(env, SetNs));
  exports.Set("unshare", Napi::Function::New(env, Unshare));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount2", Napi::Function::New(env, Umount2));
  exports.Set("gettid", Napi::Function::New(env, GetTid));
  return exports;
}

}  // namespace

NODE_API_MODULE(plumb_native, Init)
