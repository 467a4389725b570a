// Registration only: every concern lives in its own file (maps, object loading, program
// info/pinning, attaching, ring buffers) and adds its functions to `exports`.
#include "common.h"

namespace tapvm {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitMaps(env, exports);
  InitObject(env, exports);
  InitProgs(env, exports);
  InitAttach(env, exports);
  InitRingBuf(env, exports);
  InitServer(env, exports);
  return exports;
}

}  // namespace tapvm

// NODE_API_MODULE pastes its second argument into an identifier, so it needs a plain name.
static Napi::Object InitTapvm(Napi::Env env, Napi::Object exports) {
  return tapvm::Init(env, exports);
}

NODE_API_MODULE(tapvm, InitTapvm)
