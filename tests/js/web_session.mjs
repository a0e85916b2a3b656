// Sessions on the page (web/), in headless Chromium, for tests/clients/web.rs: someone who is
// not a member follows a room link and is told how to get in; a second tab shares the sign-in;
// Sign out revokes the refresh token and signs every tab out.
//
//   node web_session.mjs PAGE_BASE AUCTION_ID
// Prints JSON lines; exits non-zero on failure.
import { mkdirSync } from "node:fs";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium } from "playwright-core";
import { deadline, fail, log } from "./driver.mjs";

const [base, auctionId] = process.argv.slice(2);
const finish = deadline(90000);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });

try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => fail(`page: ${e}`));
  await page.goto(`${base}/?auction=${auctionId}`);
  await page.getByRole("textbox", { name: "Email" }).fill("outsider@example.com");
  await page.getByRole("button", { name: "Send me a login link" }).click();
  await page.getByRole("link", { name: "open the login link" }).click();
  const guidance = page.locator("#not-member");
  await guidance.waitFor();
  const axe = await new AxeBuilder({ page }).analyze();
  const serious = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
  log({ event: "not-member", text: await guidance.innerText(), serious });
  const shots = new URL("../../target/web-screenshots/", import.meta.url).pathname;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: `${shots}not-member-desktop.png`, fullPage: true });

  // A second tab is signed in already.
  const tab = await ctx.newPage();
  await tab.goto(`${base}/`);
  await tab.getByRole("heading", { level: 1, name: "My auctions" }).waitFor();
  log({ event: "second-tab", signed_in: true });

  const refresh = await page.evaluate(() => localStorage.getItem("gavel.refresh"));
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await tab.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  const left = await page.evaluate(() => [localStorage.getItem("gavel.access"), localStorage.getItem("gavel.refresh")]);
  const answer = await fetch(`${base}/api/auth/refresh`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ refresh_token: refresh }) });
  log({ event: "signed-out", tokens_left: left.filter(Boolean).length, refresh_after: answer.status, other_tab_signed_out: true });
  await browser.close();
  finish();
} catch (e) {
  fail(e);
}
