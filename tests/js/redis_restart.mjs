// A member on one node, kept connected while the test restarts Redis under both nodes: once the
// test says Redis is back, what the other node commits must still reach this member live
// (delivered through Redis, not recovered by a resync).
//
//   node redis_restart.mjs BASE ORIGIN AUCTION_ID TOKEN
//   prints {"event":"joined"}, then, after the other node commits, {"event":"live", ...}
import { Member } from "./auction_room.mjs";
import { deadline, fail, log } from "./driver.mjs";

const [base, origin, auctionIdText, token] = process.argv.slice(2);
const finish = deadline(60000);

try {
  const m = new Member({ base, origin, token, auctionId: Number(auctionIdText), name: "watcher" });
  m.fail = fail;
  await m.connect();
  await m.join(null);
  log({ event: "joined", seq: m.lastSeq });
  const opened = await m.next("nomination:opened", () => true, 50000);
  log({ event: "live", seq: opened.seq, resyncs: m.resyncs, gapless: m.gaplessFrom(m.snapshotSeq + 1) });
  m.disconnect();
  finish();
} catch (e) {
  fail(e);
}
