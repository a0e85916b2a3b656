// Reads the load tools' JSON lines (stdin) and prints, per case, each server's medians over its
// runs and Gavel's ratio to the Node bar (gavel / node: below 1 means Gavel's figure is lower).
import { readFileSync } from "node:fs";

const runs = readFileSync(0, "utf8")
  .split("\n")
  .filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l));
const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// Per bench: what identifies a case, and the figures compared.
const benches = {
  auction: {
    key: (r) => ({ clients: r.clients, spectators: r.spectators }),
    metrics: {
      ack_p50: (r) => r.ack_ms.p50,
      ack_p99: (r) => r.ack_ms.p99,
      broadcast_p50: (r) => r.broadcast_ms.p50,
      broadcast_p99: (r) => r.broadcast_ms.p99,
      broadcast_max: (r) => r.broadcast_ms.max,
      server_cpu_cores: (r) => r.server_cpu_cores,
      server_peak_rss_mib: (r) => r.server_peak_rss_mib,
      delivered_ratio: (r) => (r.expected ? r.delivered / r.expected : null),
    },
  },
  handshakes: {
    key: (r) => ({ concurrency: r.concurrency }),
    metrics: {
      per_second: (r) => r.per_second,
      connect_p50: (r) => r.connect_ms.p50,
      connect_p99: (r) => r.connect_ms.p99,
      server_cpu_cores: (r) => r.server_cpu_cores,
      server_cpu_us_per_handshake: (r) => r.server_cpu_us_per_handshake,
      server_peak_rss_mib: (r) => r.server_peak_rss_mib,
      completed_ratio: (r) => r.completed / r.total,
    },
  },
};
const cases = new Map();
for (const r of runs) {
  const bench = r.bench ?? "auction";
  const key = JSON.stringify({ bench, ...benches[bench].key(r) });
  if (!cases.has(key)) cases.set(key, new Map());
  const byServer = cases.get(key);
  if (!byServer.has(r.server)) byServer.set(r.server, []);
  byServer.get(r.server).push(r);
}
for (const [key, byServer] of cases) {
  const { metrics } = benches[JSON.parse(key).bench];
  const out = { summary: true, ...JSON.parse(key) };
  const medians = {};
  for (const [server, list] of byServer) {
    medians[server] = Object.fromEntries(
      Object.entries(metrics).map(([k, f]) => {
        const m = median(list.map(f));
        return [k, m === null ? null : Number(m.toFixed(3))];
      }),
    );
    out[server] = { runs: list.length, ...medians[server] };
  }
  if (medians.gavel && medians.node) {
    out.gavel_to_node = Object.fromEntries(
      Object.keys(metrics).map((k) => {
        const [g, n] = [medians.gavel[k], medians.node[k]];
        return [k, g === null || !n ? null : Number((g / n).toFixed(2))];
      }),
    );
  }
  console.log(JSON.stringify(out));
}
