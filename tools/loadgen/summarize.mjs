// Reads the load generator's JSON lines (stdin) and prints, per case (clients, spectators),
// each server's medians over its runs and Gavel's ratio to the Node bar (< 1: Gavel lower).
import { readFileSync } from "node:fs";

const runs = readFileSync(0, "utf8")
  .split("\n")
  .filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const metrics = {
  ack_p50: (r) => r.ack_ms.p50,
  ack_p99: (r) => r.ack_ms.p99,
  broadcast_p50: (r) => r.broadcast_ms.p50,
  broadcast_p99: (r) => r.broadcast_ms.p99,
  broadcast_max: (r) => r.broadcast_ms.max,
  server_cpu_cores: (r) => r.server_cpu_cores,
  server_peak_rss_mib: (r) => r.server_peak_rss_mib,
  delivered_ratio: (r) => (r.expected ? r.delivered / r.expected : null),
};
const cases = new Map();
for (const r of runs) {
  const key = `${r.clients}/${r.spectators}`;
  if (!cases.has(key)) cases.set(key, new Map());
  const byServer = cases.get(key);
  if (!byServer.has(r.server)) byServer.set(r.server, []);
  byServer.get(r.server).push(r);
}
for (const [key, byServer] of cases) {
  const [clients, spectators] = key.split("/");
  const summary = { summary: true, clients: Number(clients), spectators };
  const medians = {};
  for (const [server, list] of byServer) {
    medians[server] = Object.fromEntries(Object.entries(metrics).map(([k, f]) => [k, Number(median(list.map(f)).toFixed(3))]));
    summary[server] = { runs: list.length, ...medians[server] };
  }
  if (medians.gavel && medians.node) {
    summary.gavel_to_node = Object.fromEntries(
      Object.keys(metrics).map((k) => [k, medians.node[k] ? Number((medians.gavel[k] / medians.node[k]).toFixed(2)) : null]),
    );
  }
  console.log(JSON.stringify(summary));
}
