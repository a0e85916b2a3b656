// Two members, one on each node, kept connected while the test takes Redis away under both
// nodes. After Redis restarts, what node one commits must reach node two's member live (through
// Redis, no resync). While Redis is down, what node one commits must still reach node one's own
// member live (the local fallback), and node two's member through the seq check (`time:sync`
// naming the auction, every 250 ms here, as the page does periodically).
//
//   node redis_restart.mjs BASE1 BASE2 ORIGIN AUCTION_ID TOKEN_ON_1 TOKEN_ON_2
//   prints {"event":"joined"}; after the test starts the auction, {"event":"live", ...}; after
//   the test nominates while Redis is down, {"event":"after-outage", ...}
import { Member } from "./auction_room.mjs";
import { deadline, fail, log } from "./driver.mjs";

const [base1, base2, origin, auctionIdText, tokenOn1, tokenOn2] = process.argv.slice(2);
const auctionId = Number(auctionIdText);
const finish = deadline(150000);

try {
  const near = new Member({ base: base1, origin, token: tokenOn1, auctionId, name: "on-node-1" });
  const far = new Member({ base: base2, origin, token: tokenOn2, auctionId, name: "on-node-2" });
  for (const m of [near, far]) m.fail = fail;
  await Promise.all([near.connect(), far.connect()]);
  await Promise.all([near.join(null), far.join(null)]);
  log({ event: "joined" });

  const [, opened] = await Promise.all([near, far].map((m) => m.next("nomination:opened", () => true, 60000)));
  log({ event: "live", seq: opened.seq, nominator: opened.nominator, resyncs: far.resyncs, gapless: far.gaplessFrom(far.snapshotSeq + 1) });

  const lots = [near, far].map((m) => m.next("lot:opened", () => true, 60000));
  let checks = 0;
  const poll = setInterval(() => {
    checks += 1;
    far.checkSeq().catch(fail);
  }, 250);
  await Promise.all(lots);
  clearInterval(poll);
  log({
    event: "after-outage",
    near_resyncs: near.resyncs,
    far_resyncs: far.resyncs,
    checks,
    gapless: [near, far].every((m) => m.gaplessFrom(m.snapshotSeq + 1)),
    last: [near.lastSeq, far.lastSeq],
  });
  near.disconnect();
  far.disconnect();
  finish();
} catch (e) {
  fail(e);
}
