// Opens a Derm-Scan report from disk in headless Chromium with the network off, reads the
// rendered page and saves a screenshot. Prints one JSON object; exits non-zero when the
// page is not what a doctor should get.
//
//   node tests/browser/check-report.mjs REPORT.html SCREENSHOT.png
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [report, screenshot] = process.argv.slice(2);
if (!report || !screenshot) {
  console.error("usage: check-report.mjs REPORT.html SCREENSHOT.png");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    // No name resolves: nothing can be fetched even if the page tried.
    "--host-resolver-rules=MAP * ~NOTFOUND",
  ],
});
const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 900 } });
const page = await context.newPage();
const requests = [];
page.on("request", (r) => requests.push(r.url()));
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });

const url = pathToFileURL(resolve(report)).href;
await page.goto(url, { waitUntil: "load" });
const found = await page.evaluate(async () => {
  const images = [...document.images];
  // Wait for every image to finish decoding (or fail).
  await Promise.all(images.map((img) => img.decode().then(() => true, () => false)));
  return {
    title: document.title,
    images: images.map((img) => ({
      alt: img.alt,
      decoded: img.complete && img.naturalWidth > 0,
      width: img.naturalWidth,
      height: img.naturalHeight,
      inline: img.src.startsWith("data:"),
    })),
    measurementRows: document.querySelectorAll("#measurements tr.scan").length,
    sizes: [...document.querySelectorAll("#measurements td.size")].map((td) => td.textContent),
    areaRatio: document.querySelector(".area-ratio")?.textContent ?? null,
    iou: document.querySelector(".iou")?.textContent ?? null,
    disclaimer: document.querySelector("#disclaimer")?.textContent ?? "",
    text: document.body.innerText.length,
  };
});
await page.screenshot({ path: screenshot, fullPage: true });
await browser.close();

const external = requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"));
const problems = [];
if (!found.title.startsWith("Derm-Scan report")) problems.push(`title is ${JSON.stringify(found.title)}`);
if (found.images.length === 0) problems.push("no images");
for (const img of found.images) {
  if (!img.decoded) problems.push(`image "${img.alt}" did not decode`);
  if (!img.inline) problems.push(`image "${img.alt}" is not embedded`);
}
if (found.measurementRows === 0) problems.push("no measurement rows");
if (!found.disclaimer.includes("not a medical diagnosis")) problems.push("no not-a-diagnosis statement");
if (external.length) problems.push(`fetched from outside the file: ${external.join(", ")}`);
if (consoleErrors.length) problems.push(`console errors: ${consoleErrors.join(" | ")}`);
console.log(JSON.stringify({ ...found, requests, external, problems }, null, 1));
process.exit(problems.length ? 1 : 0);
