// Bursts of simultaneous bids from N managers on each of several lots, over the official
// socket.io-client. Checks what every client saw; prints one summary line per client.
//
//   node auction_burst.mjs BASE ORIGIN AUCTION_ID COMMISSIONER_TOKEN MANAGER_TOKENS_JSON LOTS
import { createHash } from "node:crypto";
import { Member, rest } from "./auction_room.mjs";
import { deadline, fail, log } from "./driver.mjs";

const [base, origin, auctionIdText, commissionerToken, managersJson, lotsText] = process.argv.slice(2);
const auctionId = Number(auctionIdText);
const lots = Number(lotsText);
const finish = deadline(240000);

const tokens = JSON.parse(managersJson);
const managers = tokens.map((token, i) => new Member({ base, origin, token, auctionId, name: `m${i}` }));
for (const m of managers) m.fail = fail;
const acks = [];
const idempotency = [];

try {
  await Promise.all(managers.map((m) => m.connect()));
  await Promise.all(managers.map((m) => m.join(null)));
  const pool = new Set(managers[0].state.pool);
  managers[0].listeners.push((name, body) => {
    if (name === "lot:opened") pool.delete(body.lot.player);
  });
  for (const m of managers) {
    m.listeners.push(async (name, body) => {
      try {
        if (name === "nomination:opened" && body.nominator === m.team && body.seq && m.applied.filter((e) => e.name === "lot:sold").length < lots) {
          const ack = await m.emit("lot:nominate", { player: Math.min(...pool), opening_bid: 1 });
          acks.push(ack);
        }
        if (name === "lot:opened" && body.lot.id <= lots) {
          const lot = body.lot;
          const first = { lot_id: lot.id, amount: lot.high_bid + 1 + (m.team % 5), client_bid_id: `${m.name}-${lot.id}-a`, expected_version: lot.version };
          const second = { lot_id: lot.id, amount: lot.high_bid + 2 + (m.team % 7), client_bid_id: `${m.name}-${lot.id}-b` };
          const sends = [m.emit("bid:place", first), m.emit("bid:place", second)];
          if (m.team === 0) sends.push(m.emit("bid:place", first)); // a retry of the same client id
          const answers = await Promise.all(sends);
          acks.push(...answers);
          if (m.team === 0) idempotency.push(JSON.stringify(answers[0]) === JSON.stringify(answers[2]));
        }
      } catch (e) {
        fail(e);
      }
    });
  }
  const started = await rest(base, origin, commissionerToken, "POST", `/api/auctions/${auctionId}/start`);
  if (started.status !== 200) fail(`start: ${JSON.stringify(started)}`);
  await Promise.all(managers.map((m) => m.next("lot:sold", (b) => b.lot === lots, 120000)));
  const completed = Promise.all(managers.map((m) => m.next("auction:completed", () => true, 30000)));
  const done = await rest(base, origin, commissionerToken, "POST", `/api/auctions/${auctionId}/complete`);
  if (done.status !== 200) fail(`complete: ${JSON.stringify(done)}`);
  await completed;

  const errors = acks.filter((a) => !a.ok && ["unavailable", "bad_request", "forbidden"].includes(a.error?.type));
  for (const m of managers) {
    const accepted = m.applied.filter((e) => e.name === "bid:accepted");
    const byLot = new Map();
    for (const e of accepted) {
      const list = byLot.get(e.body.lot) ?? [];
      list.push(e.body.amount);
      byLot.set(e.body.lot, list);
    }
    const increasing = [...byLot.values()].every((list) => list.every((a, i) => i === 0 || a > list[i - 1]));
    const soldLots = m.applied.filter((e) => e.name === "lot:sold").map((e) => e.body.lot);
    const hash = createHash("sha256").update(m.applied.map((e) => `${e.seq}:${e.name}`).join("\n")).digest("hex");
    log({
      event: "client",
      name: m.name,
      first: m.applied[0]?.seq ?? null,
      last: m.lastSeq,
      gapless: m.gaplessFrom(m.snapshotSeq + 1),
      accepted: accepted.length,
      increasing,
      sold_lots: soldLots,
      hash,
    });
  }
  log({
    event: "done",
    acks: acks.length,
    accepted_acks: acks.filter((a) => a.ok).length,
    refused_kinds: [...new Set(acks.filter((a) => !a.ok).map((a) => a.error.type))],
    errors,
    idempotent: idempotency.every(Boolean) && idempotency.length > 0,
  });
  for (const m of managers) m.disconnect();
  finish();
} catch (e) {
  fail(e);
}
