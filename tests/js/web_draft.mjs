// A whole draft run from the page alone (web/, served by `gavel serve`), in headless Chromium
// (Debian's, via playwright-core), for tests/clients/web.rs. The test makes no API call itself:
//
// 1. The commissioner signs in, creates an auction with 3 teams, imports 12 players from CSV
//    and copies the three invitation links.
// 2. Three managers, each in their own browser context, open a link, sign in and land in the room.
// 3. The draft runs to the end: nominations from the board (once after a search), quick bids,
//    one keyboard-only bid, chat (one message deleted by the commissioner).
// 4. Mid-lot the commissioner pauses; a manager reloads and finds the log and the lot's bid
//    history restored; the commissioner resumes.
// 5. The commissioner edits one sale's price and voids another (confirming), and at the end
//    downloads the results CSV.
// axe-core runs on every screen; each is photographed at 1280×800 and 390×844.
//
//   node web_draft.mjs PAGE_BASE SHOTS_DIR
// Prints JSON lines; exits non-zero on failure.
import { mkdirSync, readFileSync } from "node:fs";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium } from "playwright-core";
import { deadline, fail, log } from "./driver.mjs";

const [base, shots] = process.argv.slice(2);
const finish = deadline(400000);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const TEAMS = ["Aces", "Bees", "Cats"];
const CSV = ["name,rank,position,team_bye", ...Array.from({ length: 12 }, (_, i) => `Player ${String.fromCharCode(65 + i)},${i + 1},${["QB", "RB", "WR", "TE"][i % 4]},T${i % 5} / ${5 + (i % 9)}`)].join("\n");

async function newPage(name) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => fail(`${name}: ${e}`));
  return page;
}

/** axe-core on the screen as it is: its serious and critical violations, logged. */
async function axe(page, screen) {
  const result = await new AxeBuilder({ page }).analyze();
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  log({ event: "axe", screen, serious: serious.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) })) });
}

/** The screen at desktop and phone size; logs how far the phone layout overflows sideways. */
async function shoot(page, screen) {
  await page.screenshot({ path: `${shots}/${screen}-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${shots}/${screen}-phone.png`, fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.setViewportSize({ width: 1280, height: 800 });
  log({ event: "screenshot", screen, phone_overflow_px: overflow });
}

async function look(page, screen) {
  await axe(page, screen);
  await shoot(page, screen);
}

const seqOf = (page) => page.evaluate(() => Number(document.body.dataset.seq || 0));
const phaseOf = (page) => page.evaluate(() => document.body.dataset.phase ?? "");
const heading = (page, name) => page.getByRole("heading", { level: 1, name }).waitFor();

async function signIn(page, email) {
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByRole("button", { name: "Send me a login link" }).click();
  await page.getByRole("link", { name: "open the login link" }).click();
}

/** Waits until every page has applied `seq` or later. */
async function caughtUp(pages, seq) {
  try {
    await Promise.all(pages.map((p) => p.waitForFunction((s) => Number(document.body.dataset.seq) >= s, seq, { timeout: 20000 })));
  } catch (e) {
    const seen = await Promise.all(pages.map((p) => p.evaluate(() => [document.body.dataset.seq, document.body.dataset.phase, document.querySelector("#notice")?.textContent])));
    fail(`not every page reached seq ${seq}: ${JSON.stringify(seen)}: ${e}`);
  }
}

async function setUp(commissioner) {
  await commissioner.goto(`${base}/`);
  await heading(commissioner, "Sign in");
  await look(commissioner, "sign-in");
  await signIn(commissioner, "commissioner@example.com");
  await heading(commissioner, "My auctions");
  await look(commissioner, "home");
  await commissioner.getByRole("button", { name: "New auction" }).click();
  await heading(commissioner, "New auction");
  await commissioner.getByRole("textbox", { name: "Auction name" }).fill("Draft night");
  for (const [i, name] of TEAMS.entries()) await commissioner.getByRole("textbox", { name: `Team ${i + 1} name` }).fill(name);
  await commissioner.getByRole("spinbutton", { name: "Budget" }).fill("60");
  await commissioner.getByRole("spinbutton", { name: "Roster slots" }).fill("3");
  await commissioner.getByRole("spinbutton", { name: "Bid clock (s)" }).fill("6");
  await commissioner.getByRole("spinbutton", { name: "Reset clock (s)" }).fill("4");
  await look(commissioner, "create");
  await commissioner.getByRole("button", { name: "Create auction" }).click();
  await heading(commissioner, "Draft night");
  await commissioner.waitForFunction(() => document.body.dataset.phase === "Lobby");
  await commissioner.getByRole("textbox", { name: "Players CSV" }).fill(CSV);
  await commissioner.getByRole("button", { name: "Import players" }).click();
  await commissioner.getByText("12 of 12 players available").waitFor();
  await look(commissioner, "lobby");
  const links = [];
  for (let i = 0; i < TEAMS.length; i++) {
    const invitations = commissioner.getByRole("region", { name: "Invitations" });
    await invitations.getByRole("listitem").filter({ hasText: TEAMS[i] }).getByRole("button", { name: "Copy invitation link" }).click();
    await commissioner.getByText(`Invitation link for ${TEAMS[i]} copied`).first().waitFor();
    links.push(await commissioner.evaluate(() => navigator.clipboard.readText()));
  }
  log({ event: "links", links });
  return links;
}

async function joinByLink(link, i) {
  const page = await newPage(`manager ${i}`);
  await page.goto(link);
  await heading(page, "Sign in");
  await signIn(page, `manager${i}@example.com`);
  await heading(page, "Draft night");
  await page.waitForFunction(() => document.body.dataset.seq);
  await page.getByRole("region", { name: "Teams" }).getByRole("row", { name: new RegExp(`^${TEAMS[i]} \\(you\\)`) }).waitFor();
  return page;
}

async function nominator(commissioner, managers) {
  await commissioner.waitForFunction(() => document.body.dataset.phase === "Nominating" || document.body.dataset.phase === "Completed", null, { timeout: 20000 });
  if ((await phaseOf(commissioner)) === "Completed") return null;
  const turn = await commissioner.locator("#turn").textContent();
  const i = TEAMS.findIndex((t) => turn.startsWith(t));
  if (i < 0) fail(`whose turn? ${turn}`);
  await managers[i].locator("#turn", { hasText: "Your turn to nominate" }).waitFor();
  return managers[i];
}

/** A manager other than `except` who may bid on the open lot (a full roster cannot), or null. */
async function bidderOf(managers, except) {
  for (const p of managers) if (p !== except && (await p.getByRole("button", { name: "+1" }).isEnabled())) return p;
  return null;
}

async function keyboardBid(page) {
  await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : null));
  let tabs = 0;
  while ((await page.evaluate(() => document.activeElement?.id)) !== "bid-amount") {
    if (++tabs > 80) fail("Tab never reached the bid amount");
    await page.keyboard.press("Tab");
  }
  const amount = await page.getByRole("spinbutton", { name: "Bid amount" }).inputValue();
  await page.keyboard.press("Enter");
  await page.waitForFunction((a) => document.querySelector("#announcer")?.textContent === `Your bid of ${a} is the high bid`, amount);
  log({ event: "keyboard-bid", tabs, amount: Number(amount) });
}

async function pauseAndReload(commissioner, managers, reloaded) {
  await commissioner.getByRole("button", { name: "Pause" }).click();
  await Promise.all([commissioner, ...managers].map((p) => p.waitForFunction(() => document.body.dataset.phase === "Paused")));
  const frozen = await managers[0].locator("#clock").textContent();
  await look(commissioner, "room-paused");
  const before = await reloaded.locator("#log li").count();
  const bids = await reloaded.locator("#lot-bids li").count();
  await reloaded.reload();
  await reloaded.waitForFunction(() => document.body.dataset.phase === "Paused");
  await reloaded.waitForFunction((n) => document.querySelectorAll("#log li").length >= n, before, { timeout: 10000 });
  await reloaded.waitForFunction((n) => document.querySelectorAll("#lot-bids li").length >= n, bids, { timeout: 10000 });
  const chat = await reloaded.locator("#chat li").count();
  log({ event: "reloaded", log_before: before, log_after: await reloaded.locator("#log li").count(), bids_before: bids, bids_after: await reloaded.locator("#lot-bids li").count(), chat_after: chat, frozen });
  if (!/left \(frozen\)/.test(frozen ?? "")) fail(`paused clock shows ${frozen}`);
  await commissioner.getByRole("button", { name: "Resume" }).click();
  await Promise.all([commissioner, ...managers].map((p) => p.waitForFunction(() => document.body.dataset.phase === "Bidding")));
}

async function chat(managers, commissioner) {
  const [a, b] = managers;
  await a.getByRole("textbox", { name: "Message" }).fill("Good luck <b>all</b>");
  await a.getByRole("button", { name: "Send" }).click();
  await b.getByText("Good luck <b>all</b>").waitFor();
  const markup = await b.locator("#chat b").count();
  await b.getByRole("textbox", { name: "Message" }).fill("Oops, wrong room");
  await b.getByRole("button", { name: "Send" }).click();
  await commissioner.getByText("Oops, wrong room").waitFor();
  await commissioner.getByRole("button", { name: `Delete message from ${TEAMS[1]}` }).click();
  await Promise.all(managers.map((p) => p.getByText("Oops, wrong room").waitFor({ state: "detached" })));
  log({ event: "chat", markup_elements: markup, kept: await managers[2].locator("#chat li").count() });
}

async function editAndVoid(commissioner, pages) {
  const sales = commissioner.getByRole("list", { name: "Sales" });
  const first = sales.getByRole("listitem").nth(0);
  const priceBox = first.getByRole("spinbutton");
  const edited = Number(await priceBox.inputValue()) + 2;
  await priceBox.fill(String(edited));
  let seq = await seqOf(commissioner);
  await first.getByRole("button", { name: "Save price" }).click();
  await caughtUp(pages, seq + 1);
  const second = sales.getByRole("listitem").nth(1);
  const voided = (await second.locator(".sale").textContent()).split(" → ")[0];
  await second.getByRole("button", { name: /^Void the sale/ }).click();
  const dialog = commissioner.getByRole("dialog");
  await dialog.waitFor();
  const question = await dialog.getByRole("heading").textContent();
  seq = await seqOf(commissioner);
  await dialog.getByRole("button", { name: "Void sale" }).click();
  await caughtUp(pages, seq + 1);
  log({ event: "edited-and-voided", edited_price: edited, voided, question });
}

async function draft(commissioner, managers) {
  const pages = [commissioner, ...managers];
  await commissioner.getByRole("button", { name: "Start" }).click();
  let lots = 0;
  let keyboard = false;
  for (;;) {
    const nom = await nominator(commissioner, managers);
    if (!nom) break;
    lots += 1;
    if (lots === 2) {
      // Nominate from a search, and by position.
      await nom.getByRole("searchbox", { name: "Search players" }).fill("Player");
      await nom.getByRole("combobox", { name: "Position" }).selectOption("WR");
    }
    const seq = await seqOf(nom);
    await nom.getByRole("region", { name: "Players" }).getByRole("row").filter({ has: nom.getByRole("button", { name: "Nominate" }) }).first().getByRole("button", { name: "Nominate" }).click();
    await caughtUp(pages, seq + 1);
    if (lots === 2) await nom.getByRole("combobox", { name: "Position" }).selectOption("");
    const bidder = await bidderOf(managers, nom);
    if (bidder && !keyboard) {
      keyboard = true;
      await keyboardBid(bidder);
      await look(bidder, "room-bidding");
    } else if (bidder) {
      await bidder.getByRole("button", { name: lots % 2 ? "+1" : "+5" }).click();
    }
    if (lots === 1) await chat(managers, commissioner);
    if (lots === 3 && bidder) await pauseAndReload(commissioner, managers, bidder);
    // The lot closes on the server's clock.
    await commissioner.waitForFunction(() => document.body.dataset.phase !== "Bidding", null, { timeout: 20000 });
    if (lots === 4) await editAndVoid(commissioner, pages);
  }
  return lots;
}

async function results(commissioner) {
  await heading(commissioner, "Draft night");
  await commissioner.getByRole("heading", { name: "Results" }).waitFor();
  const link = commissioner.getByRole("link", { name: "Download results (CSV)" });
  await link.waitFor();
  await look(commissioner, "results");
  const [download] = await Promise.all([commissioner.waitForEvent("download"), link.click()]);
  const csv = readFileSync(await download.path(), "utf8");
  log({ event: "csv", name: download.suggestedFilename(), csv });
}

try {
  const commissioner = await newPage("commissioner");
  const links = await setUp(commissioner);
  const managers = [];
  for (const [i, link] of links.entries()) managers.push(await joinByLink(link, i));
  const seen = await managers[0].evaluate(() => document.body.innerText);
  log({ event: "joined", managers: managers.length, others_emails_seen: (seen.match(/manager[12]@example\.com|commissioner@example\.com/g) ?? []).length });
  const lots = await draft(commissioner, managers);
  await results(commissioner);
  const rosters = await Promise.all([commissioner, ...managers].map((p) => p.locator("#draft-board").innerText()));
  log({ event: "done", lots, same_board: rosters.every((r) => r === rosters[0]) });
  await browser.close();
  finish();
} catch (e) {
  fail(e);
}
