// Socket.IO handshakes per second over websocket: C at a time, each a new connection that
// completes the Engine.IO open and the Socket.IO CONNECT to `/auction` with a JWT (the server
// verifies it), then closes. Reports the rate, the connect latency (p50/p99/max), failures, and
// the server's CPU (in cores, and per handshake — the fair comparison when the generator's one
// core is the limit) and peak memory.
//
//   node handshakes.mjs --base http://127.0.0.1:8000 --secret S --pid PID \
//        --total 5000 --concurrency 50 [--label gavel]
import { createRequire } from "node:module";

import { cpuTicks, mint, parseArgs, peakKiB, summary } from "./common.mjs";

const require = createRequire(import.meta.url);
const WebSocket = require("ws");

const args = parseArgs();
const url = `${args.base.replace(/^http/, "ws")}/api/socket.io/?EIO=4&transport=websocket`;
const origin = args.origin ?? "http://localhost:5173";
const total = Number(args.total ?? 5000);
const concurrency = Number(args.concurrency ?? 50);
const token = mint(args.secret, "handshake");

/** One handshake; resolves with its latency in ms, rejects on an error or after 10 s. */
function handshake() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ws = new WebSocket(url, { headers: { origin } });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("timeout"));
    }, 10000);
    ws.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.on("message", (data) => {
      const m = data.toString();
      if (m.startsWith("0")) return ws.send(`40/auction,${JSON.stringify({ token })}`);
      if (m.startsWith("40/auction,")) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
        ws.close();
      } else if (m.startsWith("44/auction,")) {
        clearTimeout(timer);
        ws.close();
        reject(new Error(`refused: ${m}`));
      }
    });
  });
}

const latencies = [];
const failures = {};
let started = 0;
const cpu0 = cpuTicks(args.pid);
const genCpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (started < total) {
      started += 1;
      try {
        latencies.push(await handshake());
      } catch (e) {
        failures[e.message] = (failures[e.message] ?? 0) + 1;
      }
    }
  }),
);
const elapsed = (performance.now() - t0) / 1000;
const cpu1 = cpuTicks(args.pid);
const genCpu = process.cpuUsage(genCpu0);
console.log(
  JSON.stringify({
    bench: "handshakes",
    server: args.label ?? "gavel",
    total,
    concurrency,
    completed: latencies.length,
    failures,
    seconds: Number(elapsed.toFixed(2)),
    per_second: Math.round(latencies.length / elapsed),
    connect_ms: summary(latencies),
    server_cpu_cores: cpu0 === null ? null : Number(((cpu1 - cpu0) / 100 / elapsed).toFixed(2)),
    // What one handshake costs the server: comparable even when the generator is the limit.
    server_cpu_us_per_handshake: cpu0 === null ? null : Math.round(((cpu1 - cpu0) * 10000) / latencies.length),
    server_peak_rss_mib: peakKiB(args.pid) === null ? null : Number((peakKiB(args.pid) / 1024).toFixed(1)),
    generator_cpu_cores: Number(((genCpu.user + genCpu.system) / 1e6 / elapsed).toFixed(2)),
  }),
);
process.exit(0);
