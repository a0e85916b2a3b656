// Two server processes sharing PostgreSQL and Redis: a manager on each, with the official
// socket.io-client. Each sees the other's nominations and bids (committed on the other node)
// and every sale once, with a gapless seq, and a chat message sent through the other node.
//
//   node auction_two_nodes.mjs BASE1 BASE2 ORIGIN AUCTION_ID COMMISSIONER_TOKEN TOKEN_A TOKEN_B LOTS
import { Member, rest } from "./auction_room.mjs";
import { deadline, fail, log } from "./driver.mjs";

const [base1, base2, origin, auctionIdText, commissionerToken, tokenA, tokenB, lotsText] = process.argv.slice(2);
const auctionId = Number(auctionIdText);
const lots = Number(lotsText);
const finish = deadline(60000);

try {
  const a = new Member({ base: base1, origin, token: tokenA, auctionId, name: "a@node1" });
  const b = new Member({ base: base2, origin, token: tokenB, auctionId, name: "b@node2" });
  for (const m of [a, b]) m.fail = fail;
  await Promise.all([a.connect(), b.connect()]);
  await Promise.all([a.join(null), b.join(null)]);
  const byTeam = new Map([[a.team, a], [b.team, b]]);
  const pool = new Set(a.state.pool);
  a.listeners.push((name, body) => name === "lot:opened" && pool.delete(body.lot.player));
  // Only the first LOTS lots are played: the commissioner completes the auction after the
  // last sale, and a lot opened meanwhile would close under a bid sent for it.
  const sold = (m) => m.applied.filter((e) => e.name === "lot:sold").length;
  for (const m of [a, b]) {
    m.listeners.push(async (name, body) => {
      try {
        if (name === "nomination:opened" && body.nominator === m.team && sold(m) < lots) {
          const ack = await m.emit("lot:nominate", { player: Math.min(...pool), opening_bid: 1 });
          if (!ack.ok) fail(`${m.name}: ${JSON.stringify(ack)}`);
        }
        if (name === "lot:opened" && body.lot.id <= lots) {
          // The other team bids, through its own node.
          const other = body.lot.nominator === a.team ? b : a;
          if (other === m) {
            const ack = await m.emit("bid:place", { lot_id: body.lot.id, amount: 2 + body.lot.id, expected_version: body.lot.version, client_bid_id: `${m.name}-${body.lot.id}` });
            if (!ack.ok) fail(`${m.name}: ${JSON.stringify(ack)}`);
          }
        }
      } catch (e) {
        fail(e);
      }
    });
  }
  const started = await rest(base1, origin, commissionerToken, "POST", `/api/auctions/${auctionId}/start`);
  if (started.status !== 200) fail(`start: ${JSON.stringify(started)}`);
  await Promise.all([a, b].map((m) => m.next("lot:sold", (e) => e.lot === lots, 40000)));
  const completed = Promise.all([a, b].map((m) => m.next("auction:completed", () => true, 20000)));
  const done = await rest(base2, origin, commissionerToken, "POST", `/api/auctions/${auctionId}/complete`);
  if (done.status !== 200) fail(`complete: ${JSON.stringify(done)}`);
  await completed;
  for (const m of [a, b]) {
    log({
      event: "member",
      name: m.name,
      team: m.team,
      last: m.lastSeq,
      gapless: m.gaplessFrom(m.snapshotSeq + 1),
      resyncs: m.resyncs,
      sold: m.applied.filter((e) => e.name === "lot:sold").map((e) => e.body.lot),
      accepted: m.applied.filter((e) => e.name === "bid:accepted").map((e) => [e.body.team, e.body.amount]),
    });
  }
  // Chat crosses nodes too: a message sent on node 1 reaches the room's socket on node 2.
  const heard = new Promise((resolve) => b.socket.on("chat:message", (m) => m.text === "gg" && resolve(m)));
  const sent = await a.emit("chat:send", { text: "gg" });
  log({ event: "chat", sent, heard: await heard });
  log({ event: "done", teams: [...byTeam.keys()] });
  a.disconnect();
  b.disconnect();
  finish();
} catch (e) {
  fail(e);
}
