// A full auction over the official socket.io-client: four managers nominate and bid by a fixed
// strategy (the Rust test simulates the same strategy with the pure rules and compares), a
// spectator watches, tries to bid (refused), drops off mid-auction and resyncs by `seq`.
//
//   node auction_full.mjs BASE ORIGIN AUCTION_ID COMMISSIONER_TOKEN SPECTATOR_TOKEN MANAGER_TOKENS_JSON
import { Member, rest } from "./auction_room.mjs";
import { deadline, fail, log } from "./driver.mjs";

const [base, origin, auctionIdText, commissionerToken, spectatorToken, managersJson] = process.argv.slice(2);
const auctionId = Number(auctionIdText);
const finish = deadline(120000);

const tokens = JSON.parse(managersJson);
const managers = tokens.map((token, i) => new Member({ base, origin, token, auctionId, name: `manager${i}` }));
const spectator = new Member({ base, origin, token: spectatorToken, auctionId, name: "spectator" });
for (const m of [...managers, spectator]) m.fail = fail;

try {
  await Promise.all([...managers, spectator].map((m) => m.connect()));
  await Promise.all([...managers, spectator].map((m) => m.join(null)));
  const slots = managers[0].state.settings.roster_slots;
  const teams = managers[0].state.teams.length;
  const filled = new Array(teams).fill(0);
  const pool = new Set(managers[0].state.pool);
  let sold = 0;
  const idempotent = [];

  // Every manager tracks the same facts from its own events; manager 0's copy drives the checks.
  for (const m of managers) {
    m.listeners.push(async (name, body) => {
      try {
        if (name === "nomination:opened" && body.nominator === m.team) {
          const player = Math.min(...pool);
          const ack = await m.emit("lot:nominate", { player, opening_bid: 1 });
          if (!ack.ok) fail(`${m.name}: nomination refused ${JSON.stringify(ack)}`);
        }
        if (name === "lot:opened") {
          const lot = body.lot;
          let winner = null;
          for (let k = 1; k < teams; k++) {
            const t = (lot.nominator + k) % teams;
            if (filled[t] < slots) { winner = t; break; }
          }
          if (winner === m.team) {
            const bid = { lot_id: lot.id, amount: 1 + lot.id, client_bid_id: `full-${lot.id}`, expected_version: lot.version };
            // The same client_bid_id twice at once: one bid, the same answer twice.
            const [a, b] = await Promise.all([m.emit("bid:place", bid), m.emit("bid:place", bid)]);
            if (!a.ok || JSON.stringify(a) !== JSON.stringify(b)) fail(`${m.name}: retry answered differently ${JSON.stringify([a, b])}`);
            idempotent.push(a.seq);
          }
        }
      } catch (e) {
        fail(e);
      }
    });
  }
  managers[0].listeners.push((name, body) => {
    if (name === "lot:opened") pool.delete(body.lot.player);
    if (name === "lot:sold") { filled[body.team] += 1; sold += 1; }
  });

  // The spectator may watch but not bid.
  const refused = await spectator.emit("bid:place", { lot_id: 1, amount: 5, client_bid_id: "spectator-1" });
  if (refused.ok || refused.error.type !== "forbidden") fail(`spectator bid not refused: ${JSON.stringify(refused)}`);
  log({ event: "spectator-refused", error: refused.error });

  const started = await rest(base, origin, commissionerToken, "POST", `/api/auctions/${auctionId}/start`);
  if (started.status !== 200) fail(`start: ${JSON.stringify(started)}`);

  // The spectator drops off after the fourth sale and comes back after the seventh.
  await spectator.next("lot:sold", (b) => b.lot === 4, 60000);
  spectator.disconnect();
  const spectatorLeftAt = spectator.lastSeq;
  await managers[0].next("lot:sold", (b) => b.lot === 7, 60000);
  const back = new Member({ base, origin, token: spectatorToken, auctionId, name: "spectator-again" });
  back.fail = fail;
  back.lastSeq = spectator.lastSeq;
  back.applied = spectator.applied; // one record across the reconnect
  back.snapshotSeq = spectator.snapshotSeq;
  await back.connect();
  const rejoin = await back.join(spectator.lastSeq);
  log({ event: "spectator-resynced", left_at: spectatorLeftAt, rejoined_at: rejoin.seq, caught_up_to: back.lastSeq });

  await Promise.all([...managers, back].map((m) => m.next("auction:completed", () => true, 60000)));
  for (const m of [...managers, back]) {
    log({
      event: "member",
      name: m.name,
      team: m.team ?? null,
      first: m.applied[0]?.seq ?? null,
      last: m.lastSeq,
      gapless: m.gaplessFrom(m.snapshotSeq + 1),
      sold: m.applied.filter((e) => e.name === "lot:sold").length,
      kinds: m.applied.map((e) => e.name).join(","),
    });
  }
  log({ event: "done", sold, idempotent_bids: idempotent.length });
  for (const m of [...managers, back]) m.disconnect();
  finish();
} catch (e) {
  fail(e);
}
