// A real browser's CORS checks: headless Chromium (Debian's, via playwright-core) loads a page
// from one origin that calls Gavel's API and opens a Socket.IO connection on another origin.
//
//   node browser_cors.mjs PAGE_PORT API_BASE ADMIN_TOKEN USER_TOKEN
// Prints {"event":"result", fetch:…, socket:…} and exits 0 (the Rust test judges it).
import http from "node:http";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const [pagePort, apiBase, adminToken, userToken] = process.argv.slice(2);
// The browser bundle is not in the package's exports map: read it from its folder.
const clientBundle = readFileSync(
  fileURLToPath(new URL("./node_modules/socket.io-client/dist/socket.io.min.js", import.meta.url)),
);

const page = `<!doctype html><meta charset="utf-8"><title>cross-origin</title>
<script src="/socket.io.min.js"></script>
<script>
window.result = {};
(async () => {
  try {
    const r = await fetch(${JSON.stringify(apiBase)} + "/api/admin/policy/explain", {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json", authorization: "Bearer ${adminToken}" },
      body: JSON.stringify({ origin: location.origin }),
    });
    const body = await r.json();
    window.result.fetch = { ok: true, status: r.status, verdict: body.verdict };
  } catch (e) {
    window.result.fetch = { ok: false, error: String(e) };
  }
  await new Promise((resolve) => {
    const s = io(${JSON.stringify(apiBase)} + "/auction", {
      path: "/api/socket.io/", auth: { token: "${userToken}" }, reconnection: false, timeout: 5000,
    });
    s.on("connect", async () => {
      try {
        const ack = await s.timeout(5000).emitWithAck("time:sync", {});
        window.result.socket = { ok: true, server_now: ack.server_now, transport: s.io.engine.transport.name };
      } catch (e) { window.result.socket = { ok: false, error: String(e) }; }
      s.disconnect(); resolve();
    });
    s.on("connect_error", (e) => { window.result.socket = { ok: false, error: e.message }; resolve(); });
  });
  window.done = true;
})();
</script>`;

const server = http.createServer((req, res) => {
  if (req.url === "/socket.io.min.js") {
    res.writeHead(200, { "content-type": "text/javascript" });
    return res.end(clientBundle);
  }
  res.writeHead(200, { "content-type": "text/html" });
  res.end(page);
});
await new Promise((resolve) => server.listen(Number(pagePort), "127.0.0.1", resolve));

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const ctx = await browser.newContext();
  const tab = await ctx.newPage();
  const consoleErrors = [];
  tab.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  await tab.goto(`http://127.0.0.1:${pagePort}/`);
  await tab.waitForFunction(() => window.done === true, null, { timeout: 20000 });
  const result = await tab.evaluate(() => window.result);
  console.log(JSON.stringify({ event: "result", ...result, consoleErrors }));
} finally {
  await browser.close();
  server.close();
}
