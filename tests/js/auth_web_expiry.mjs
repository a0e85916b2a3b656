// The auction-room page (web/) in headless Chromium when its access token runs out, for
// `tests/auth_abuse.rs`. Two managers of lot 1, each page seeded with a short access token and a
// refresh token (localStorage, as after a sign-in):
//
// * A refreshes ahead of expiry and hands the socket the new token (`auth:refresh`): it stays
//   connected past its first token's `exp` and bids.
// * B cannot refresh ahead (its refresh request fails, as for a page asleep), so the server
//   ends its session at `exp`; its refresh after `auth:expired` is held while A bids, then let
//   through: B reconnects, catches up on the bid it missed (by `last_seq`), and bids.
//
//   node auth_web_expiry.mjs PAGE_BASE API_BASE AUCTION_ID ACCESS_A REFRESH_A ACCESS_B REFRESH_B
// Prints JSON lines; exits non-zero on failure.
import { chromium } from "playwright-core";
import { deadline, fail, log } from "./driver.mjs";

const [pageBase, apiBase, auctionId, accessA, refreshA, accessB, refreshB] = process.argv.slice(2);
const finish = deadline(60000);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const url = `${pageBase}/?${new URLSearchParams({ api: apiBase, auction: auctionId })}`;
const expOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url")).exp * 1000;
const seqOf = (page) => page.evaluate(() => Number(document.body.dataset.seq));
const accessOf = (page) => page.evaluate(() => localStorage.getItem("gavel.access"));

async function open(name, access, refresh) {
  const ctx = await browser.newContext();
  await ctx.addInitScript(
    ([a, r]) => {
      if (!localStorage.getItem("gavel.access")) {
        localStorage.setItem("gavel.access", a);
        localStorage.setItem("gavel.refresh", r);
      }
    },
    [access, refresh],
  );
  const page = await ctx.newPage();
  page.on("pageerror", (e) => fail(`${name}: ${e}`));
  return page;
}

async function inRoom(page) {
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.seq !== undefined && document.body.dataset.seq !== "");
}

async function bid(page) {
  await page.waitForSelector("#bid:not([disabled])");
  const amount = await page.inputValue("#bid-amount");
  await page.click("#bid");
  await page.waitForFunction((a) => document.querySelector("#notice")?.textContent?.includes(`bid of ${a} is the high bid`), amount, {
    timeout: 15000,
  });
  return Number(amount);
}

try {
  // B: the first refresh (ahead of expiry) fails; the second (after `auth:expired`) waits.
  const b = await open("B", accessB, refreshB);
  let refreshes = 0;
  let release;
  const released = new Promise((resolve) => (release = resolve));
  let held;
  const holding = new Promise((resolve) => (held = resolve));
  await b.route("**/api/auth/refresh", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    refreshes += 1;
    if (refreshes === 1) return route.abort();
    held();
    await released;
    await route.continue();
  });
  await inRoom(b);
  const a = await open("A", accessA, refreshA);
  await inRoom(a);
  log({ event: "in-room" });

  // B's token expired and the server ended its session: B asks for a new one (held).
  await holding;
  const heldAt = Date.now();
  if (heldAt < expOf(accessB)) fail(`B refreshed at ${heldAt}, before its token's exp ${expOf(accessB)}`);
  // A is past its first token's exp by now, on a refreshed one, still connected: it bids.
  if (Date.now() < expOf(accessA)) fail("A's first token has not expired yet");
  const aBid = await bid(a);
  const aSeq = await seqOf(a);
  log({ event: "a-bid", amount: aBid, seq: aSeq, token_replaced: (await accessOf(a)) !== accessA, past_exp_ms: Date.now() - expOf(accessA) });

  // B missed that bid while disconnected; let its refresh through: it reconnects and catches up.
  const bSeqBefore = await seqOf(b);
  release();
  await b.waitForFunction((s) => Number(document.body.dataset.seq) >= s, aSeq, { timeout: 15000 });
  const highBid = Number(await b.textContent("#high-bid"));
  log({ event: "b-caught-up", seq_before: bSeqBefore, seq: await seqOf(b), high_bid: highBid, token_replaced: (await accessOf(b)) !== accessB });
  const bBid = await bid(b);
  log({ event: "b-bid", amount: bBid, seq: await seqOf(b), refreshes });
  await browser.close();
  finish();
} catch (e) {
  fail(e);
}
