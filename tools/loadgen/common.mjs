// What the load tools share: `--name value` arguments, HS256 tokens for Gavel's JWT, the
// server's CPU and peak memory read from /proc, and latency summaries.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

export function parseArgs(argv = process.argv.slice(2)) {
  return Object.fromEntries(argv.reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
}

/** A one-hour access token for `sub`, as Gavel mints them (HS256, audience "gavel"). */
export function mint(secret, sub) {
  const b64url = (s) => Buffer.from(s).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ sub, role: "user", aud: "gavel", iat: now, exp: now + 3600 }));
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** The process's CPU time (user + system) in clock ticks (100/s), or null without a pid. */
export function cpuTicks(pid) {
  if (!pid) return null;
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** The process's peak resident memory in KiB, or null without a pid. */
export function peakKiB(pid) {
  if (!pid) return null;
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+)/);
  return m ? Number(m[1]) : null;
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** n, p50, p99 and max of a list of milliseconds, rounded to 0.1 ms. */
export function summary(list) {
  const s = [...list].sort((a, b) => a - b);
  const round = (x) => (x === null || x === undefined ? null : Number(x.toFixed(1)));
  return { n: s.length, p50: round(pct(s, 50)), p99: round(pct(s, 99)), max: round(s[s.length - 1]) };
}
