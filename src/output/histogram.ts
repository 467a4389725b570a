// stap's ASCII histogram (_stp_stat_print_histogram_buf in runtime/stat-common.c): a header
// `value |---...--- count`, one row per bucket between the first and last non-empty ones (two
// empty rows of margin), runs of empty rows elided to `~`, bars of '@' scaled to 50 columns.
import { HIST, LOG_BUCKET0, type StatDesc } from '../vm/stats';

const HIST_WIDTH = 50;
const HIST_ELISION = 2;

function neededSpace(v: bigint): number {
  if (v === 0n) return 1;
  return (v < 0n ? 1 : 0) + (v < 0n ? -v : v).toString().length;
}

/** _stp_bucket_to_val */
function bucketValue(n: number): bigint {
  if (n === LOG_BUCKET0) return 0n;
  if (n < LOG_BUCKET0) return BigInt.asIntN(64, -(1n << 63n) >> BigInt(n));
  return 1n << BigInt(n - LOG_BUCKET0 - 1);
}

export function formatHistogram(d: StatDesc, hist: bigint[]): string {
  if (d.hist !== HIST.LOG && d.hist !== HIST.LINEAR) return '';
  const buckets = d.hist === HIST.LOG ? hist.length : d.buckets;
  let low = -1;
  let high = 0;
  let valmax = 0n;
  for (let i = 0; i < buckets; i++) {
    if (hist[i] > 0n && low === -1) low = i;
    if (hist[i] > 0n) high = i;
    if (hist[i] > valmax) valmax = hist[i];
  }
  for (let i = 0; i < 2; i++) {
    if (d.hist === HIST.LOG) {
      if (low !== LOG_BUCKET0 && low > 0) low--;
    } else if (low > 0) low--;
    if (high < buckets - 1) high++;
  }
  let under = 0;
  let over = 0;
  if (d.hist === HIST.LINEAR) {
    if (low === 0 && hist[0] === 0n) low++;
    if (high === buckets - 1 && hist[high] === 0n) high--;
    if (low === 0) under = 1;
    if (high === buckets - 1) over = 1;
  }
  const scale = valmax <= BigInt(HIST_WIDTH) ? 1n : (valmax + BigInt(HIST_WIDTH) - 1n) / BigInt(HIST_WIDTH);
  const cntSpace = neededSpace(valmax);
  const start = BigInt(d.start);
  const interval = BigInt(d.interval);
  let valSpace =
    d.hist === HIST.LINEAR
      ? Math.max(neededSpace(start) + under, neededSpace(start + interval * BigInt(high)) + over)
      : Math.max(neededSpace(bucketValue(high)), neededSpace(bucketValue(low)));
  valSpace = Math.max(valSpace, 5);

  let out = `${'value'.padStart(valSpace)} |${'-'.repeat(HIST_WIDTH)} count\n`;
  let eliding = false;
  for (let i = low; i <= high; i++) {
    const maxElide = Math.min(HIST_ELISION, buckets);
    const minB = Math.max(low, i - maxElide);
    const maxB = Math.min(high, i + maxElide);
    let elide = true;
    for (let k = minB; k <= maxB; k++) if (hist[k] !== 0n) elide = false;
    if (elide) {
      eliding = true;
      continue;
    }
    if (eliding) {
      out += `${''.padStart(valSpace)} ~\n`;
      eliding = false;
    }
    let val: bigint;
    let prefix = '';
    if (d.hist === HIST.LINEAR) {
      if (i === 0) {
        val = start;
        prefix = '<';
      } else if (i === buckets - 1) {
        val = start + BigInt(i - 2) * interval;
        prefix = '>';
      } else val = start + BigInt(i - 1) * interval;
    } else val = bucketValue(i);
    out += `${prefix.padStart(valSpace - neededSpace(val))}${val} |`;
    const v = Number(hist[i] / scale);
    out += '@'.repeat(v);
    out += `${hist[i]}`.padStart(HIST_WIDTH - v + 1 + cntSpace) + '\n';
  }
  return out + '\n';
}
