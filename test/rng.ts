/** xorshift32: a small deterministic generator, so a failing random case reproduces from its
 * seed. rng(seed)(n) is an integer in [0, n). Shared by the fuzz and regex specs. */
export function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}
