{
  # Built by `node-gyp rebuild --directory native` (package.json "install" script).
  # Produces build/Release/tapvm.node, loaded by src/native.ts, and build/Release/tapvm-client.
  "targets": [
    {
      "target_name": "tapvm",
      "sources": [
        "src/addon.cc",
        "src/common.cc",
        "src/maps.cc",
        "src/object.cc",
        "src/progs.cc",
        "src/attach.cc",
        "src/ringbuf.cc",
        "src/server.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      # C++ exceptions stay off: the ring buffer callback runs JS from inside libbpf's C
      # code, where a C++ exception must never unwind. Errors are thrown as JS exceptions.
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        # A throw that cannot happen (JS is shutting down) is dropped instead of aborting.
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc": [ "-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers" ],
      "libraries": [ "-lbpf", "-lelf", "-lz" ]
    },
    {
      # build/Release/tapvm-client: bin/tapvm's fast path to the warm server (src/server/).
      # Plain C, no Node or libbpf, so it starts in about a millisecond; linked statically
      # (libc.a comes with the headers it is compiled against, libc6-dev): no dynamic loader
      # run, ~0.2 ms less per command (exec to exit, medians of 200 runs).
      "target_name": "tapvm-client",
      "type": "executable",
      "sources": [ "client.c" ],
      "cflags": [ "-O2", "-Wall", "-Wextra" ],
      "ldflags": [ "-static" ]
    }
  ]
}
