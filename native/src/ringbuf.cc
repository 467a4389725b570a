// Ring buffer reading on Node's own event loop: libbpf's ring_buffer epoll fd is watched
// with a uv_poll_t, so records are delivered without threads or busy polling, and the JS
// callback runs on the main thread straight from the poll callback.
//
// Delivery is batched: libbpf's sample callback only copies each record into one
// contiguous native buffer (which also hands the ring space back to the kernel at once),
// and JS is called once per batch, never from inside libbpf's loop. Batch layout, records
// back to back, in ring order, no padding:
//
//   [u32 len, little-endian][len bytes of the record] [u32 len][...] ...
//
// A batch holds at most `batchBytes` bytes (default 1 MiB) including the length words; a
// single record larger than that comes alone in a batch of its own.
//
// Wake-ups: besides the poll, an optional periodic timer (pollMs) drains records the
// producer submitted with BPF_RB_NO_WAKEUP, and an optional pause (coalesceMs) stops
// polling for a moment after a wake-up that brought little, so that at low rates records
// gather into batches instead of costing a kernel wake-up each (bench/RESULTS.md).
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <memory>

#include "common.h"

namespace tapvm {
namespace {

constexpr size_t kDefaultBatchBytes = 1 << 20;
constexpr int64_t kMaxBatchBytes = 1 << 30;
// A poll or timer wake-up delivers at most this many batches, then returns to the event
// loop so output writes, timers and signals get their turn; the epoll fd is level-
// triggered, so whatever is left wakes the next loop iteration without a kernel wake-up.
constexpr int kBatchesPerWakeup = 4;
// Sample callback's "stop" return once the batch is full (the record is kept).
constexpr int kBatchFull = -EAGAIN;
// With coalesceMs, a poll wake-up that delivered less than this stops polling for
// coalesceMs: small deliveries mean a low rate, where the per-wake-up cost dominates.
constexpr size_t kCoalesceBelow = 64 * 1024;

struct Reader;

// The uv handles outlive their Reader until libuv's close callbacks. The struct also owns
// the async cleanup hook: Node waits for that hook to be removed (in the last close
// callback) before it unloads the addon at environment teardown, so libuv never calls
// into unmapped code.
struct PollHandle {
  uv_poll_t poll;
  uv_timer_t timer;     // optional periodic drain (pollMs)
  bool timerInit = false;
  uv_timer_t rearm;     // optional: restarts the poll after a coalescing pause
  bool rearmInit = false;
  int open = 0;         // handles initialised and not yet closed
  napi_async_cleanup_hook_handle hook = nullptr;
  Reader* reader = nullptr;  // cleared when the reader closes
};

struct Reader {
  napi_env env = nullptr;
  Napi::FunctionReference onBatch;
  // Resource for the callback scope opened around loop-driven deliveries (async hooks,
  // and the microtask/nextTick drain that lets awaiting code run after a batch).
  std::unique_ptr<Napi::AsyncContext> asyncCtx;
  ring_buffer* rb = nullptr;
  PollHandle* poll = nullptr;
  // A consume or close from inside onBatch is deferred while `busy`: libbpf keeps the
  // consumer position in a local while it runs, and the batch buffer is in use.
  bool busy = false;
  bool closeRequested = false;
  bool closed = false;
  int jsRefs = 3;  // the consume, close and setCoalesceMs functions, each finalized separately

  // The batch being filled: `size` bytes in `buf`. When a record overflowed the cap,
  // `split` is where the batch ends and the one record after it waits for the next batch.
  uint8_t* buf = nullptr;
  size_t size = 0;
  size_t capacity = 0;
  size_t cap = kDefaultBatchBytes;
  size_t split = 0;
  int64_t records = 0;  // records in the batch (not counting a carried one)
  bool full = false;
  uint64_t bytesDelivered = 0;  // running total of batch bytes handed to JS

  uint64_t coalesceMs = 0;
  bool paused = false;  // poll stopped until the rearm timer fires

  ~Reader() { free(buf); }
};

void MaybeDelete(Reader* r) {
  if (r->closed && r->jsRefs == 0) delete r;
}

void OnClosed(uv_handle_t* h) {
  PollHandle* ph = static_cast<PollHandle*>(h->data);
  if (--ph->open > 0) return;
  if (ph->hook != nullptr) napi_remove_async_cleanup_hook(ph->hook);
  delete ph;
}

void ClosePoll(PollHandle* ph) {
  ph->reader = nullptr;
  if (ph->open == 0) {  // nothing was initialised
    if (ph->hook != nullptr) napi_remove_async_cleanup_hook(ph->hook);
    delete ph;
    return;
  }
  uv_poll_stop(&ph->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&ph->poll), OnClosed);
  if (ph->timerInit) {
    uv_timer_stop(&ph->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&ph->timer), OnClosed);
  }
  if (ph->rearmInit) {
    uv_timer_stop(&ph->rearm);
    uv_close(reinterpret_cast<uv_handle_t*>(&ph->rearm), OnClosed);
  }
}

// Stops polling and frees the ring_buffer; the map fd belongs to the caller. Records in
// an undelivered batch are dropped.
void DoClose(Reader* r) {
  if (r->closed) return;
  r->closed = true;
  if (r->poll != nullptr) ClosePoll(r->poll);
  r->poll = nullptr;
  if (r->rb != nullptr) ring_buffer__free(r->rb);
  r->rb = nullptr;
  r->onBatch.Reset();
  r->asyncCtx.reset();
  r->size = r->split = 0;
  r->records = 0;
}

// Environment teardown (process exit, worker termination): the handles must be closed
// before Node closes the loop, even if JS never called close().
void AsyncCleanup(napi_async_cleanup_hook_handle, void* arg) {
  PollHandle* ph = static_cast<PollHandle*>(arg);
  if (ph->reader != nullptr) DoClose(ph->reader);  // else its close is already under way
}

bool Reserve(Reader* r, size_t need) {
  if (need <= r->capacity) return true;
  size_t c = r->capacity ? r->capacity : r->cap + 4096;
  while (c < need) c *= 2;
  void* p = realloc(r->buf, c);
  if (p == nullptr) return false;
  r->buf = static_cast<uint8_t*>(p);
  r->capacity = c;
  return true;
}

// libbpf sample callback: appends the record to the batch. No JS here. libbpf has already
// moved the consumer position past the record, so a record we return an error for is
// gone: the full-batch stop keeps it (as the carried record).
int OnSample(void* ctx, void* data, size_t size) {
  Reader* r = static_cast<Reader*>(ctx);
  if (r->closeRequested) return -ECANCELED;
  size_t at = r->size;
  size_t need = 4 + size;
  if (!Reserve(r, at + need)) return -ENOMEM;  // the record is lost; stop for now
  uint32_t len = static_cast<uint32_t>(size);
  memcpy(r->buf + at, &len, 4);
  memcpy(r->buf + at + 4, data, size);
  r->size = at + need;
  if (r->size < r->cap) {
    r->records++;
    return 0;
  }
  r->full = true;
  if (r->size == r->cap || at == 0) {
    r->records++;  // fits exactly, or a record larger than the cap on its own
  } else {
    r->split = at;  // over the cap: this record opens the next batch
  }
  return kBatchFull;
}

// Calls onBatch with a copy of the finished batch, then moves a carried record to the
// front. Returns false when the call failed (an exception is pending, or JS cannot run).
//
// Raw N-API calls on purpose: node-addon-api turns a failed call into a throw, and during
// worker termination JS cannot run, a throw fails too, and the wrapper would then abort
// the process. Here any failure just stops delivery.
bool Deliver(Reader* r, int64_t* delivered) {
  size_t end = r->split ? r->split : r->size;
  napi_env env = r->env;
  napi_status st = napi_ok;
  if (end > 0 && !r->onBatch.IsEmpty()) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return false;
    napi_value fn, recv, buf, result;
    void* copy;
    st = napi_get_reference_value(env, r->onBatch, &fn);
    if (st == napi_ok) st = napi_get_undefined(env, &recv);
    if (st == napi_ok) st = napi_create_buffer_copy(env, end, r->buf, &copy, &buf);
    // On an exception napi_call_function fails and leaves it pending for our caller; the
    // batch counts as delivered all the same (as a record did before batching).
    if (st == napi_ok) {
      st = napi_call_function(env, recv, fn, 1, &buf, &result);
      *delivered += r->records;
      r->bytesDelivered += end;
    }
    napi_close_handle_scope(env, scope);
  }
  if (r->split) {
    memmove(r->buf, r->buf + r->split, r->size - r->split);
    r->size -= r->split;
    r->split = 0;
    r->records = 1;
  } else {
    r->size = 0;
    r->records = 0;
  }
  return st == napi_ok;
}

// Consumes and delivers batch after batch until the ring is seen empty, at most
// `maxBatches` of them (0: no limit). Returns the number of records delivered.
int64_t Drain(Reader* r, int maxBatches) {
  int64_t delivered = 0;
  r->busy = true;
  bool ok = true;
  for (int i = 0; maxBatches == 0 || i < maxBatches; i++) {
    r->full = false;
    ring_buffer__consume(r->rb);  // fails only when OnSample stops it
    if (r->closeRequested) break;
    bool more = r->full;
    if (r->size > 0 && !(ok = Deliver(r, &delivered))) break;
    if (r->closeRequested || !more) break;
  }
  // Out of budget with a carried record: deliver it now, the ring may hold nothing that
  // would wake us for it.
  if (ok && !r->closeRequested && r->size > 0) Deliver(r, &delivered);
  r->busy = false;
  return delivered;
}

void OnPoll(uv_poll_t* h, int status, int events);

void OnRearm(uv_timer_t* h) {
  PollHandle* ph = static_cast<PollHandle*>(h->data);
  Reader* r = ph->reader;
  if (r == nullptr || r->closed || !r->paused) return;
  r->paused = false;
  // level-triggered: records that came during the pause are reported at once (should
  // this fail, consume() and the pollMs timer still drain)
  uv_poll_start(&ph->poll, UV_READABLE, OnPoll);
}

// A poll or timer wake-up: drain inside a callback scope. After a poll wake-up that found
// little, polling pauses for coalesceMs (the kernel's wake-ups are not acted on meanwhile,
// so what arrives gathers into one batch).
void DrainFromLoop(Reader* r, bool fromPoll) {
  uint64_t bytesBefore = r->bytesDelivered;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value resource;
  napi_callback_scope cbScope = nullptr;
  napi_value error = nullptr;
  bool pending = false;
  r->busy = true;
  // Closing the callback scope runs microtasks, so promises resolved by onBatch settle
  // now (and async hooks see a proper callback).
  if (napi_create_object(env, &resource) == napi_ok &&
      napi_open_callback_scope(env, resource, *r->asyncCtx, &cbScope) == napi_ok) {
    Drain(r, kBatchesPerWakeup);
    uint64_t bytes = r->bytesDelivered - bytesBefore;
    if (fromPoll && r->coalesceMs > 0 && bytes > 0 && bytes < kCoalesceBelow &&
        !r->closeRequested && r->poll != nullptr && r->poll->rearmInit) {
      uv_poll_stop(&r->poll->poll);
      r->paused = true;
      uv_timer_start(&r->poll->rearm, OnRearm, r->coalesceMs, 0);
    }
    r->busy = true;  // microtasks run on scope close may call close(): still deferred
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_get_and_clear_last_exception(env, &error);
    }
    napi_close_callback_scope(env, cbScope);
  } else if (r->poll != nullptr) {
    // JS cannot run (teardown): don't be woken for unread records
    uv_poll_stop(&r->poll->poll);
    if (r->poll->timerInit) uv_timer_stop(&r->poll->timer);
    if (r->poll->rearmInit) uv_timer_stop(&r->poll->rearm);
  }
  r->busy = false;
  if (r->closeRequested) DoClose(r);
  // Nobody called us from JS, so an onBatch exception goes where any event callback's
  // would: process 'uncaughtException'.
  if (error != nullptr) napi_fatal_exception(env, error);
  napi_close_handle_scope(env, scope);
}

void OnPoll(uv_poll_t* h, int status, int /*events*/) {
  Reader* r = static_cast<PollHandle*>(h->data)->reader;
  if (r == nullptr || r->closed || r->busy) return;
  if (status < 0) {
    // The epoll fd is unusable; stop rather than be woken forever.
    uv_poll_stop(h);
    return;
  }
  DrainFromLoop(r, true);
}

void OnTimer(uv_timer_t* h) {
  Reader* r = static_cast<PollHandle*>(h->data)->reader;
  if (r == nullptr || r->closed || r->busy) return;
  DrainFromLoop(r, false);
}

Napi::Value ReaderConsume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Reader* r = static_cast<Reader*>(info.Data());
  if (r->closed || r->busy) return Napi::Number::New(env, 0);
  int64_t n = Drain(r, 0);
  if (r->closeRequested) DoClose(r);
  if (env.IsExceptionPending()) return env.Undefined();  // rethrown to the caller
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value ReaderClose(const Napi::CallbackInfo& info) {
  Reader* r = static_cast<Reader*>(info.Data());
  if (r->busy) {
    r->closeRequested = true;  // finished once the current delivery has returned
  } else {
    DoClose(r);
  }
  return info.Env().Undefined();
}

// setCoalesceMs(ms): changes the coalescing pause (see the coalesceMs option) from the next
// wake-up on; 0 turns it off.
Napi::Value ReaderSetCoalesceMs(const Napi::CallbackInfo& info) {
  Reader* r = static_cast<Reader*>(info.Data());
  int64_t ms;
  if (!ArgInt(info, 0, "ms", &ms)) return info.Env().Undefined();
  if (ms < 0 || ms > 1000) {
    Napi::TypeError::New(info.Env(), "coalesceMs must be an integer from 0 to 1000")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  r->coalesceMs = static_cast<uint64_t>(ms);
  return info.Env().Undefined();
}

void FinalizeFn(Napi::Env, Reader* r) {
  // A reader dropped without close() keeps polling (like an open socket) until
  // environment teardown; memory goes once it is closed and both functions are gone.
  r->jsRefs--;
  MaybeDelete(r);
}

// Reads opts.<name> as an integer in [lo, hi]; absent/undefined leaves *out alone.
bool OptInt(Napi::Env env, Napi::Object opts, const char* name, int64_t lo, int64_t hi,
            int64_t* out) {
  Napi::Value v = opts.Get(name);
  if (env.IsExceptionPending()) return false;
  if (v.IsUndefined()) return true;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!v.IsNumber() || d != static_cast<double>(static_cast<int64_t>(d)) || d < lo || d > hi) {
    Napi::TypeError::New(env, std::string(name) + " must be an integer from " +
                                  std::to_string(lo) + " to " + std::to_string(hi))
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

// ringBuffer(mapFd, onBatch, { batchBytes?, pollMs?, coalesceMs? }) -> { consume(), close() }
Napi::Value RingBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mapFd;
  if (!ArgFd(info, 0, &mapFd)) return env.Undefined();
  if (!info[1].IsFunction()) {
    Napi::TypeError::New(env, "onBatch must be a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int64_t batchBytes = kDefaultBatchBytes;
  int64_t pollMs = 0;
  int64_t coalesceMs = 0;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsObject()) {
      Napi::TypeError::New(env, "options must be an object").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object opts = info[2].As<Napi::Object>();
    if (!OptInt(env, opts, "batchBytes", 1, kMaxBatchBytes, &batchBytes)) return env.Undefined();
    if (!OptInt(env, opts, "pollMs", 0, 3600 * 1000, &pollMs)) return env.Undefined();
    if (!OptInt(env, opts, "coalesceMs", 0, 1000, &coalesceMs)) return env.Undefined();
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    return ThrowErrno(env, "napi_get_uv_event_loop", EINVAL);
  }

  Reader* r = new Reader();
  r->env = env;
  r->cap = static_cast<size_t>(batchBytes);
  r->coalesceMs = static_cast<uint64_t>(coalesceMs);
  if (!Reserve(r, r->cap + 4096)) {
    delete r;
    return ThrowErrno(env, "ringBuffer", ENOMEM);
  }
  r->rb = ring_buffer__new(mapFd, OnSample, r, nullptr);
  if (r->rb == nullptr) {
    int err = errno;
    delete r;
    return ThrowErrno(env, "ring_buffer__new", err);
  }
  PollHandle* ph = new PollHandle();
  r->poll = ph;
  ph->poll.data = ph;
  ph->timer.data = ph;
  ph->rearm.data = ph;
  int uerr = uv_poll_init(loop, &ph->poll, ring_buffer__epoll_fd(r->rb));
  if (uerr != 0) {
    delete ph;  // never initialised, so no uv_close
    r->poll = nullptr;
    ring_buffer__free(r->rb);
    delete r;
    return ThrowErrno(env, "uv_poll_init", -uerr);  // libuv errors are -errno on Linux
  }
  ph->open = 1;
  ph->reader = r;
  r->onBatch = Napi::Persistent(info[1].As<Napi::Function>());
  r->asyncCtx = std::make_unique<Napi::AsyncContext>(env, "tapvm.ringBuffer");
  napi_status st = napi_add_async_cleanup_hook(env, AsyncCleanup, ph, &ph->hook);
  if (st != napi_ok) ph->hook = nullptr;
  const char* failed = "uv_poll_start";
  uerr = uv_poll_start(&ph->poll, UV_READABLE, OnPoll);
  if (uerr == 0 && pollMs > 0) {
    failed = "uv_timer_start";
    uerr = uv_timer_init(loop, &ph->timer);
    if (uerr == 0) {
      ph->timerInit = true;
      ph->open++;
      // the poll handle keeps the loop alive while the reader is open; the timer needn't
      uv_unref(reinterpret_cast<uv_handle_t*>(&ph->timer));
      uerr = uv_timer_start(&ph->timer, OnTimer, pollMs, pollMs);
    }
  }
  if (uerr == 0) {
    // always there, so setCoalesceMs can turn coalescing on later; it stays referenced:
    // while it runs the poll is stopped and must not let the loop end
    failed = "uv_timer_init";
    uerr = uv_timer_init(loop, &ph->rearm);
    if (uerr == 0) {
      ph->rearmInit = true;
      ph->open++;
    }
  }
  if (st != napi_ok || uerr != 0) {
    DoClose(r);
    delete r;
    if (uerr != 0) return ThrowErrno(env, failed, -uerr);
    return ThrowErrno(env, "napi_add_async_cleanup_hook", ENOMEM);
  }

  Napi::Function consume = Napi::Function::New(env, ReaderConsume, "consume", r);
  consume.AddFinalizer(FinalizeFn, r);
  Napi::Function close = Napi::Function::New(env, ReaderClose, "close", r);
  close.AddFinalizer(FinalizeFn, r);
  Napi::Object reader = Napi::Object::New(env);
  Napi::Function setCoalesce = Napi::Function::New(env, ReaderSetCoalesceMs, "setCoalesceMs", r);
  setCoalesce.AddFinalizer(FinalizeFn, r);
  reader.Set("consume", consume);
  reader.Set("close", close);
  reader.Set("setCoalesceMs", setCoalesce);
  return reader;
}

}  // namespace

void InitRingBuf(Napi::Env env, Napi::Object exports) {
  exports.Set("ringBuffer", Napi::Function::New(env, RingBuffer, "ringBuffer"));
}

}  // namespace tapvm
