// The auction-room page (web/) in headless Chromium (Debian's, via playwright-core), the page on
// one origin and the API on another.
//
//   node web_room.mjs auction PAGE_BASE API_BASE AUCTION_ID SHOTS_DIR EMAIL...   (commissioner first)
//   node web_room.mjs denied  PAGE_BASE API_BASE
// Prints JSON lines; exits non-zero on failure.
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { deadline, fail, log } from "./driver.mjs";

const [mode, pageBase, apiBase, auctionId, shots, ...emails] = process.argv.slice(2);
const finish = deadline(150000);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const url = `${pageBase}/?${new URLSearchParams({ api: apiBase, ...(auctionId ? { auction: auctionId } : {}) })}`;

async function signIn(page, email) {
  await page.goto(url);
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByRole("button", { name: "Send me a login link" }).click();
  await page.click("#dev-link"); // the link leads back here with ?token=…
  await page.waitForFunction(() => document.body.dataset.seq !== undefined && document.body.dataset.seq !== "");
}

const text = (page, sel) => page.textContent(sel).then((t) => t.trim());
const seqOf = (page) => page.evaluate(() => Number(document.body.dataset.seq));

async function auction() {
  const ctxs = [];
  const pages = [];
  for (const email of emails) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => fail(`${email}: ${e}`));
    ctxs.push(ctx);
    pages.push(page);
  }
  await Promise.all(pages.map((p, i) => signIn(p, emails[i])));
  log({ event: "signed-in", pages: pages.length });
  const [commissioner, ...managers] = pages;
  await commissioner.click("#start");
  // Once started, the panel offers what the phase allows: pause, not start or resume.
  await commissioner.waitForFunction(() => document.body.dataset.phase !== "Lobby");
  const offered = await commissioner.evaluate(() => ["start", "pause", "resume"].map((id) => !document.getElementById(id).disabled));
  if (JSON.stringify(offered) !== "[false,true,false]") fail(`commissioner panel after start: start/pause/resume enabled = ${offered}`);

  const teamOf = async (page) => (await text(page, "#role")).replace(/^(.* · )?manager of /, "");
  const names = await Promise.all(managers.map(teamOf));
  let wentOffline = false;
  let lots = 0;
  while (true) {
    // Whoever's turn it is nominates the first player offered.
    const phase = await commissioner.evaluate(() => document.body.dataset.phase);
    if (phase === "Completed") break;
    let nominator = null;
    for (const p of managers) if ((await text(p, "#turn")) === "Your turn to nominate") nominator = p;
    if (!nominator) {
      await commissioner.waitForTimeout(50); // polling the page for the next turn
      continue;
    }
    const before = await seqOf(nominator);
    await nominator.locator("button.nominate:not([disabled])").first().click();
    await Promise.all(pages.map((p) => p.waitForFunction((s) => Number(document.body.dataset.seq) > s, before)));
    lots += 1;
    const others = managers.filter((p) => p !== nominator);
    // The first other manager who may still bid (a full roster cannot); none: the nominator wins.
    let bidder = null;
    for (const p of others) if (!bidder && (await p.isVisible("#bid")) && (await p.isEnabled("#bid"))) bidder = p;
    const bystander = others.find((p) => p !== bidder);
    if (!wentOffline && bystander && bidder) {
      // Knock one page off the network for 5 s while the others bid.
      wentOffline = true;
      await bystander.context().setOffline(true);
      const shownAt = Date.now();
      await bystander.waitForSelector("#conn:not([hidden])", { timeout: 5000 });
      log({ event: "indicator-shown", after_ms: Date.now() - shownAt });
      await bidder.waitForSelector("#bid:not([disabled])");
      // The log's bid lines, before and after (the lot may close right after the bid).
      const bids = `[...document.querySelectorAll("#log li")].filter((li) => / bid \\d+$/.test(li.textContent)).length`;
      const before = await commissioner.evaluate(bids);
      await bidder.click("#bid");
      await commissioner.waitForFunction(`${bids} > ${before}`);
      await bystander.waitForTimeout(5000 - (Date.now() - shownAt)); // the outage lasts 5 s
      await bystander.context().setOffline(false);
      await bystander.waitForSelector("#conn", { state: "hidden", timeout: 15000 });
      // Back: the page catches up to what the others show.
      await bystander.waitForFunction(
        (seq) => Number(document.body.dataset.seq) >= seq,
        await seqOf(commissioner),
        { timeout: 15000 },
      );
      log({ event: "resynced", seq: await seqOf(bystander), others: await seqOf(commissioner) });
    } else if (bidder) {
      await bidder.click("#bid");
    }
    if (lots === 2) {
      await commissioner.screenshot({ path: `${shots}/room-desktop.png`, fullPage: true });
      await commissioner.setViewportSize({ width: 390, height: 844 });
      await commissioner.screenshot({ path: `${shots}/room-phone.png`, fullPage: true });
      const overflow = await commissioner.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      log({ event: "screenshots", phone_horizontal_overflow_px: overflow });
      await commissioner.setViewportSize({ width: 1280, height: 800 });
    }
    // Wait for the lot to close (the server's clock) before the next turn.
    const seq = await seqOf(commissioner);
    await commissioner.waitForFunction(
      (s) => Number(document.body.dataset.seq) > s && document.body.dataset.phase !== "Bidding",
      seq,
      { timeout: 20000 },
    );
  }
  await Promise.all(pages.map((p) => p.waitForFunction(() => document.body.dataset.phase === "Completed")));
  const rosters = await Promise.all(pages.map((p) => text(p, "#draft-board")));
  const seqs = await Promise.all(pages.map(seqOf));
  log({ event: "done", lots, teams: names, rosters, seqs });
}

async function denied() {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url);
  await page.getByRole("textbox", { name: "Email" }).fill("ann@example.com");
  await page.getByRole("button", { name: "Send me a login link" }).click();
  await page.waitForSelector("#error:not([hidden])");
  log({ event: "error-shown", error: await text(page, "#error") });
}

try {
  mkdirSync(shots ?? ".", { recursive: true });
  if (mode === "auction") await auction();
  else if (mode === "denied") await denied();
  else fail(`unknown mode ${mode}`);
  await browser.close();
  finish();
} catch (e) {
  fail(e);
}
