// Ring buffer reading on Node's own event loop: libbpf's ring_buffer epoll fd is watched
// with a uv_poll_t, so records are delivered without threads or busy polling, and the JS
// callback runs on the main thread straight from the poll callback.
#include <bpf/libbpf.h>
#include <errno.h>
#include <uv.h>

#include <memory>

#include "common.h"

namespace tapvm {
namespace {

struct Reader;

// The uv handle outlives its Reader until libuv's close callback. It also owns the async
// cleanup hook: Node waits for that hook to be removed (in the close callback) before it
// unloads the addon at environment teardown, so libuv never calls into unmapped code.
struct PollHandle {
  uv_poll_t poll;
  napi_async_cleanup_hook_handle hook = nullptr;
  Reader* reader = nullptr;  // cleared when the reader closes
};

struct Reader {
  napi_env env = nullptr;
  Napi::FunctionReference onRecord;
  // Resource for the callback scope opened around poll-driven deliveries (async hooks,
  // and the microtask/nextTick drain that lets awaiting code run after a batch).
  std::unique_ptr<Napi::AsyncContext> asyncCtx;
  ring_buffer* rb = nullptr;
  PollHandle* poll = nullptr;
  // libbpf keeps the consumer position in a local while it calls us, so a nested
  // consume or a ring_buffer__free from inside onRecord would corrupt it: both are
  // deferred while `busy`.
  bool busy = false;
  bool closeRequested = false;
  bool closed = false;
  int jsRefs = 2;  // the consume and close functions, each finalized separately
  int64_t delivered = 0;
};

void MaybeDelete(Reader* r) {
  if (r->closed && r->jsRefs == 0) delete r;
}

void OnClosed(uv_handle_t* h) {
  PollHandle* ph = reinterpret_cast<PollHandle*>(h);
  if (ph->hook != nullptr) napi_remove_async_cleanup_hook(ph->hook);
  delete ph;
}

// Stops polling and frees the ring_buffer; the map fd belongs to the caller.
void DoClose(Reader* r) {
  if (r->closed) return;
  r->closed = true;
  if (r->poll != nullptr) {
    r->poll->reader = nullptr;
    uv_poll_stop(&r->poll->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&r->poll->poll), OnClosed);
    r->poll = nullptr;
  }
  if (r->rb != nullptr) ring_buffer__free(r->rb);
  r->rb = nullptr;
  r->onRecord.Reset();
  r->asyncCtx.reset();
}

// Environment teardown (process exit, worker termination): the handle must be closed
// before Node closes the loop, even if JS never called close().
void AsyncCleanup(napi_async_cleanup_hook_handle, void* arg) {
  PollHandle* ph = static_cast<PollHandle*>(arg);
  if (ph->reader != nullptr) DoClose(ph->reader);  // else its close is already under way
}

// libbpf sample callback: one JS call per record, with a copy (the ring memory is
// released as soon as we return). A negative return stops libbpf's loop.
//
// Raw N-API calls on purpose: node-addon-api turns a failed call into a throw, and
// during worker termination JS cannot run, a throw fails too, and the wrapper would
// then abort the process. Here any failure just stops delivery.
int OnSample(void* ctx, void* data, size_t size) {
  Reader* r = static_cast<Reader*>(ctx);
  if (r->closeRequested || r->onRecord.IsEmpty()) return -ECANCELED;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -ECANCELED;
  napi_value fn, recv, buf, result;
  void* copy;
  napi_status st = napi_get_reference_value(env, r->onRecord, &fn);
  if (st == napi_ok) st = napi_get_undefined(env, &recv);
  if (st == napi_ok) st = napi_create_buffer_copy(env, size, data, &copy, &buf);
  // On an exception napi_call_function fails and leaves it pending for our caller.
  if (st == napi_ok) st = napi_call_function(env, recv, fn, 1, &buf, &result);
  napi_close_handle_scope(env, scope);
  if (st != napi_ok) return -ECANCELED;
  r->delivered++;
  return 0;
}

// Consumes everything available; returns the number of records delivered.
int64_t Drain(Reader* r) {
  r->busy = true;
  r->delivered = 0;
  ring_buffer__consume(r->rb);  // only fails when OnSample stops it
  r->busy = false;
  return r->delivered;
}

void OnPoll(uv_poll_t* h, int status, int /*events*/) {
  Reader* r = reinterpret_cast<PollHandle*>(h)->reader;
  if (r == nullptr || r->closed) return;
  if (status < 0) {
    // The epoll fd is unusable; stop rather than be woken forever.
    uv_poll_stop(h);
    return;
  }
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value resource;
  napi_callback_scope cbScope = nullptr;
  napi_value error = nullptr;
  bool pending = false;
  r->busy = true;
  // Closing the callback scope runs microtasks, so promises resolved by onRecord settle
  // now (and async hooks see a proper callback).
  if (napi_create_object(env, &resource) == napi_ok &&
      napi_open_callback_scope(env, resource, *r->asyncCtx, &cbScope) == napi_ok) {
    Drain(r);
    r->busy = true;  // microtasks run on scope close may call close(): still deferred
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_get_and_clear_last_exception(env, &error);
    }
    napi_close_callback_scope(env, cbScope);
  } else {
    uv_poll_stop(h);  // JS cannot run (teardown): don't be woken for unread records
  }
  r->busy = false;
  if (r->closeRequested) DoClose(r);
  // Nobody called us from JS, so an onRecord exception goes where any event callback's
  // would: process 'uncaughtException'.
  if (error != nullptr) napi_fatal_exception(env, error);
  napi_close_handle_scope(env, scope);
}

Napi::Value ReaderConsume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Reader* r = static_cast<Reader*>(info.Data());
  if (r->closed || r->busy) return Napi::Number::New(env, 0);
  int64_t n = Drain(r);
  if (r->closeRequested) DoClose(r);
  if (env.IsExceptionPending()) return env.Undefined();  // rethrown to the caller
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value ReaderClose(const Napi::CallbackInfo& info) {
  Reader* r = static_cast<Reader*>(info.Data());
  if (r->busy) {
    r->closeRequested = true;  // finished once libbpf has returned
  } else {
    DoClose(r);
  }
  return info.Env().Undefined();
}

void FinalizeFn(Napi::Env, Reader* r) {
  // A reader dropped without close() keeps polling (like an open socket) until
  // environment teardown; memory goes once it is closed and both functions are gone.
  r->jsRefs--;
  MaybeDelete(r);
}

// ringBuffer(mapFd, onRecord) -> { consume(), close() }
Napi::Value RingBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mapFd;
  if (!ArgFd(info, 0, &mapFd)) return env.Undefined();
  if (!info[1].IsFunction()) {
    Napi::TypeError::New(env, "onRecord must be a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    return ThrowErrno(env, "napi_get_uv_event_loop", EINVAL);
  }

  Reader* r = new Reader();
  r->env = env;
  r->rb = ring_buffer__new(mapFd, OnSample, r, nullptr);
  if (r->rb == nullptr) {
    int err = errno;
    delete r;
    return ThrowErrno(env, "ring_buffer__new", err);
  }
  r->poll = new PollHandle();
  int uerr = uv_poll_init(loop, &r->poll->poll, ring_buffer__epoll_fd(r->rb));
  if (uerr != 0) {
    delete r->poll;  // never initialised, so no uv_close
    r->poll = nullptr;
    ring_buffer__free(r->rb);
    delete r;
    return ThrowErrno(env, "uv_poll_init", -uerr);  // libuv errors are -errno on Linux
  }
  r->poll->reader = r;
  r->onRecord = Napi::Persistent(info[1].As<Napi::Function>());
  r->asyncCtx = std::make_unique<Napi::AsyncContext>(env, "tapvm.ringBuffer");
  napi_status st = napi_add_async_cleanup_hook(env, AsyncCleanup, r->poll, &r->poll->hook);
  if (st != napi_ok) r->poll->hook = nullptr;
  uerr = uv_poll_start(&r->poll->poll, UV_READABLE, OnPoll);
  if (st != napi_ok || uerr != 0) {
    DoClose(r);
    delete r;
    if (uerr != 0) return ThrowErrno(env, "uv_poll_start", -uerr);
    return ThrowErrno(env, "napi_add_async_cleanup_hook", ENOMEM);
  }

  Napi::Function consume = Napi::Function::New(env, ReaderConsume, "consume", r);
  consume.AddFinalizer(FinalizeFn, r);
  Napi::Function close = Napi::Function::New(env, ReaderClose, "close", r);
  close.AddFinalizer(FinalizeFn, r);
  Napi::Object reader = Napi::Object::New(env);
  reader.Set("consume", consume);
  reader.Set("close", close);
  return reader;
}

}  // namespace

void InitRingBuf(Napi::Env env, Napi::Object exports) {
  exports.Set("ringBuffer", Napi::Function::New(env, RingBuffer, "ringBuffer"));
}

}  // namespace tapvm
