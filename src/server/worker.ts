// The entry of a warm worker of the tapvm server (src/server/serve.ts is the worker itself).
// The code cache is installed first, eager (every function compiled, from a cache file of the
// worker's own: src/cli/code-cache.ts), so that it covers all the worker's code: the functions
// of the module Node starts with are compiled lazily, on first call, which for the worker's
// request path is the command's time (~0.5 ms at accept and again at the request's decode).
require('../cli/code-cache').install({ eager: true });
require('./serve');
