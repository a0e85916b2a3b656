// Drives the official socket.io-client (v4) against the gavel-tower example app (an axum +
// socketioxide server behind the origin gate), as `crates/gavel-tower/tests/layer.rs` asks.
// Prints one JSON line per transport; exits non-zero on failure.
//
//   node tower_layer.mjs BASE ORIGIN connect   every transport connects and `echo` round-trips
//   node tower_layer.mjs BASE ORIGIN refuse    every transport gets a connect_error
import { io } from "socket.io-client";
import { deadline, fail, log } from "./driver.mjs";

const [base, origin, expect] = process.argv.slice(2);
const done = deadline(30000);

const TRANSPORTS = [["polling"], ["websocket"], ["polling", "websocket"]];

function client(transports) {
  return io(base, {
    path: "/socket.io/",
    transports,
    extraHeaders: { origin },
    reconnection: false,
    timeout: 5000,
    forceNew: true,
  });
}

function outcome(socket) {
  return new Promise((resolve) => {
    socket.once("connect", () => resolve({ connected: true }));
    socket.once("connect_error", (err) => resolve({ connected: false, error: err.message }));
  });
}

function upgraded(socket) {
  return new Promise((resolve) => {
    if (socket.io.engine.transport.name === "websocket") return resolve();
    socket.io.engine.once("upgrade", () => resolve());
  });
}

async function connects(transports) {
  const name = transports.join("+");
  const socket = client(transports);
  const got = await outcome(socket);
  if (!got.connected) fail(`${name}: refused (${got.error}) but should connect`);
  if (transports.length > 1) await upgraded(socket);
  const sent = { n: 42, text: "héllo" };
  const echoed = new Promise((resolve) => socket.once("echo", resolve));
  const ack = await socket.timeout(5000).emitWithAck("echo", sent);
  const event = await echoed;
  if (JSON.stringify(ack) !== JSON.stringify(sent)) fail(`${name}: ack ${JSON.stringify(ack)}`);
  if (JSON.stringify(event) !== JSON.stringify(sent)) fail(`${name}: event ${JSON.stringify(event)}`);
  log({ event: "ok", check: `connect-${name}`, transport: socket.io.engine.transport.name, echo: ack });
  socket.disconnect();
}

async function refused(transports) {
  const name = transports.join("+");
  const socket = client(transports);
  const got = await outcome(socket);
  if (got.connected) fail(`${name}: connected but should be refused`);
  log({ event: "ok", check: `refuse-${name}`, error: got.error });
  socket.close();
}

try {
  for (const transports of TRANSPORTS) {
    if (expect === "connect") await connects(transports);
    else if (expect === "refuse") await refused(transports);
    else fail(`unknown expectation ${expect}`);
  }
} catch (e) {
  fail(e);
}
done();
