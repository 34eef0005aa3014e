// The web console end to end in Debian's chromium (headless, kept off the network), against
// the node of a running `slaledger demo`. Run by tests/e2e/console.sh, which starts the demo
// and passes SL_URL (the node), SL_DIR (the demo's directory), SL_SHOTS (where screenshots go),
// SL_TMP (scratch) and SL_BIN. Every step asserts what a user would see; screenshots of the
// main pages are saved for people to look at.

import {createRequire} from 'node:module';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const {chromium} = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set (run tests/e2e/console.sh)`);
  return process.env[k];
};
const BASE = env('SL_URL');
const DIR = env('SL_DIR');
const SHOTS = env('SL_SHOTS');
const TMP = env('SL_TMP');
const BIN = env('SL_BIN');
const PHASE = process.env.SL_PHASE || 'live'; // live: the demo running; closed: its node afterwards

const tokens = Object.fromEntries(
  readFileSync(path.join(DIR, 'net/tokens.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/))
    .map(([user, org, role, token]) => [user, {org, role, token}]),
);
const websiteUrl = (/url: "(http:\/\/127\.0\.0\.1:\d+)\//.exec(readFileSync(path.join(DIR, 'vm-web-01.yaml'), 'utf8')) || [])[1];

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
let current = 'start';

function check(cond, msg) {
  if (!cond) throw new Error(`${current}: ${msg}`);
}

async function step(name, fn) {
  current = name;
  const s = Date.now();
  await fn();
  console.log(`ok ${secs().padStart(5)}s  ${name} (${((Date.now() - s) / 1000).toFixed(1)}s)`);
}

// ---- the browser, off the network ----

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-default-apps',
    '--disable-sync',
    '--metrics-recording-only',
    '--no-default-browser-check',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  ],
});

const problems = [];
const origin = new URL(BASE).origin;

async function newPage(viewport = {width: 1440, height: 900}) {
  const context = await browser.newContext({viewport, acceptDownloads: true, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC'});
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.origin !== origin) problems.push(`request outside the node: ${r.url()}`);
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return page;
}

async function shot(page, name, {fullPage = true} = {}) {
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await page.waitForTimeout(150);
  await page.screenshot({path: path.join(SHOTS, `${name}.png`), fullPage});
}

async function signIn(page, user) {
  await page.goto(`${BASE}/`);
  await page.locator('#token').fill(tokens[user].token);
  await page.locator('form.signin-form button[type=submit]').click();
  await page.locator('.topbar').waitFor();
  const who = await page.locator('[data-testid=user]').textContent();
  check(who.includes(tokens[user].org), `the top bar shows ${JSON.stringify(who)}, not ${tokens[user].org}`);
}

async function signOut(page) {
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.locator('#token').waitFor();
}

const textOf = (page, sel) => page.locator(sel).first().innerText();
const money = (s) => Number(String(s).replace(/[^0-9.]/g, ''));

// ---- the flows ----

const page = await newPage();
let proposalTx = null;
let provenTx = null;

try {
  if (PHASE === 'live') await live();
  else await closed();
  check(problems.length === 0, `the browser reported:\n  ${problems.join('\n  ')}`);
  console.log(`console.mjs (${PHASE}): all steps passed in ${secs()} s; screenshots in ${SHOTS}`);
} catch (e) {
  console.error(`FAIL ${secs()}s: ${e.message}`);
  if (problems.length) console.error(`browser problems:\n  ${problems.join('\n  ')}`);
  try {
    await page.screenshot({path: path.join(SHOTS, `failure-${PHASE}.png`), fullPage: true});
    console.error(`a screenshot of the page is in ${path.join(SHOTS, `failure-${PHASE}.png`)}`);
  } catch {
    // the page is gone
  }
  await browser.close();
  process.exit(1);
}
await browser.close();

/** While the demo runs: what must be seen live (measurements and a penalty arriving). */
async function live() {
  await step('sign-in page; a wrong token is refused', async () => {
    await page.goto(`${BASE}/`);
    await page.locator('#token').waitFor();
    const node = await page.locator('.signin-node').innerText();
    check(/univie/.test(node), `the sign-in page names the node: ${node}`);
    await shot(page, '01-sign-in', {fullPage: false});
    await page.locator('#token').fill('slt_not-a-token-this-node-knows-about-0000000000');
    await page.locator('form.signin-form button[type=submit]').click();
    await page.locator('#token-error', {hasText: 'does not know this token'}).waitFor();
    check((await page.locator('#token').getAttribute('aria-invalid')) === 'true', 'the token field is not marked invalid');
  });

  await step('alice (univie, consumer) sees both agreements with health badges', async () => {
    await signIn(page, 'alice');
    const who = await page.locator('[data-testid=user]').innerText();
    check(/Consumer/.test(who), `role not shown: ${who}`);
    check((await page.locator('[data-testid=node-name]').innerText()).includes('univie node'), 'node name missing from the top bar');
    await page.locator('[data-testid=agreement-vm-web-01]').waitFor();
    await page.locator('[data-testid=agreement-vm-azure-01]').waitFor();
    const badges = page.locator('[data-testid=agreements-table] .badge[data-objective]');
    check((await badges.count()) >= 3, `expected a badge per objective (3), found ${await badges.count()}`);
    for (const b of await badges.all()) check((await b.getAttribute('aria-label')).length > 10, 'a health badge has no accessible label');
  });

  await step('vm-web-01: measurements arrive live', async () => {
    await page.locator('[data-testid=agreement-vm-web-01]').click();
    await page.locator('[data-testid=objective-uptime]').waitFor();
    const penalties = await page.locator('[data-testid=penalties-table] tbody tr').count();
    check(penalties === 0, `a penalty was already there when the page opened (${secs()} s after the demo started): too late to watch it arrive`);
    await page.evaluate(() => (window.__samePage = true));
    const measured = async () => Number((await textOf(page, '[data-testid=objective-uptime] tbody tr:first-child td:nth-child(2)')).split('/')[0]);
    const n0 = await measured();
    const until = Date.now() + 30000;
    while ((await measured()) < n0 + 2 && Date.now() < until) await page.waitForTimeout(250);
    const n1 = await measured();
    check(n1 >= n0 + 2, `measured intervals went from ${n0} to ${n1} in 30 s; the page is not updating`);
    const live = await page.locator('#live').getAttribute('data-state');
    check(live === 'live', `the event stream is ${live}, not live`);
  });

  await step('vm-web-01: the outage penalty appears without a reload', async () => {
    const row = page.locator('[data-testid=penalties-table] tbody tr').first();
    await row.waitFor({timeout: 60000});
    check(await page.evaluate(() => window.__samePage === true), 'the page was reloaded');
    const text = await row.innerText();
    check(/€125\.00/.test(text), `the first penalty is not 125.00 EUR: ${text}`);
    check(/uptime/.test(text), `the penalty does not say which objective: ${text}`);
    check(/tier/.test(text), `the penalty does not say why (its tier): ${text}`);
    const paid = money(await textOf(page, '[data-testid=stat-penalties] .stat-value'));
    check(paid >= 125, `the penalties tile shows ${paid}`);
    const badge = await page.locator('[data-testid=objective-uptime] .card-header .badge').innerText();
    check(/Breached/.test(badge), `the uptime objective is not shown as breached: ${badge}`);
    await page.locator('[data-testid=compliance-uptime].tone-bad').waitFor();
    // The outage's next bad minute reaches the next tier: the penalty is topped up.
    await page.locator('[data-testid=penalties-table] tbody tr').nth(1).waitFor({timeout: 60000});
    await shot(page, '03-agreement-penalty');
  });

  await step("the penalty's transaction and its inclusion proof", async () => {
    const direct = page.locator('[data-testid=penalties-table] [data-testid=penalty-tx]').first();
    if (await direct.count()) {
      await direct.click();
    } else {
      await page.locator('[data-testid=penalties-table] [data-testid=penalty-block]').first().click();
      await page.getByRole('heading', {name: /^Block #\d+$/}).waitFor();
      const tx = page.locator('[data-testid=block-txs] [data-testid=tx-link]').first();
      if (!(await tx.count())) {
        console.log('NOTE: the API names no transaction for a penalty (events carry no transaction id and blocks do not list theirs); the proof is checked for the proposal below instead');
        await shot(page, '05-block');
        return;
      }
      await tx.click();
    }
    provenTx = await checkProof(page, '05-transaction');
  });

  await step('service charts: availability with the outage marked, the measurement table', async () => {
    await page.goto(`${BASE}/#/services/vm-web-01/web-01`);
    await page.locator('[data-testid=chart-uptime] canvas').first().waitFor();
    await page.locator('[data-testid=history-table] tr.row-bad').first().waitFor();
    const count = await textOf(page, '[data-testid=history-count]');
    check(Number(count.replace(/[^0-9]/g, '')) >= 10, `few intervals in the table: ${count}`);
    await page.goto(`${BASE}/#/services/vm-web-01/site`);
    await page.locator('[data-testid=chart-latency] canvas').first().waitFor();
    await page.goto(`${BASE}/#/services/vm-web-01/web-01`);
    await page.locator('[data-testid=chart-uptime] canvas').first().waitFor();
    await page.waitForTimeout(400);
    await shot(page, '04-service-charts');
  });
}

/** After the demo: its node alone, the agreements closed; then everything that needs no live
 * demo, so that no step races the demo's clock. */
async function closed() {
  await step('sign in to the node again', async () => {
    await signIn(page, 'alice');
    await page.locator('[data-testid=agreement-vm-web-01]').waitFor();
    const closedRows = await page.locator('[data-testid=agreements-table] [data-status=closed]').count();
    check(closedRows === 2, `${closedRows} of the demo's 2 agreements are shown as closed`);
    await shot(page, '19-agreements-closed', {fullPage: false});
  });

  await step('the period closes: settlements and the final statement', async () => {
    await page.locator('[data-testid=agreement-vm-web-01]').click();
    await page.locator('#final').waitFor();
    // The outage's penalties are exact (2 x 125.00); the slow website's per-violation penalties
    // depend on how many minutes the demo kept it slow, so the rest is checked to add up.
    const text = (await page.locator('#final').innerText()).replace(/\s+/g, ' ');
    const m = /€([\d,]+\.\d\d) went to univie as penalties, €([\d,]+\.\d\d) to aws/.exec(text);
    check(m, `the final statement says: ${text}`);
    const [penalties, settled] = [money(m[1]), money(m[2])];
    check(penalties + settled === 1000, `penalties ${penalties} and settlements ${settled} do not add up to the fee of 1000.00`);
    check(penalties >= 250, `the penalties (${penalties}) miss the outage's 250.00`);
    const rows = await page.locator('[data-testid=penalties-table] tbody tr').allInnerTexts();
    const listed = rows.reduce((sum, r) => sum + money(/€[\d,]+\.\d\d/.exec(r)[0]), 0);
    check(Math.abs(listed - penalties) < 0.005, `the penalties listed add up to ${listed}, the statement says ${penalties}`);
    check(money(await textOf(page, '[data-testid=stat-settled] .stat-value')) === settled, 'the settled tile disagrees with the statement');
    check((await page.locator('[data-status=closed]').count()) >= 1, 'the agreement is not shown as closed');
    const billing = await page.locator('[data-testid=billing-table] tbody tr', {hasText: 'settled'}).count();
    check(billing === 2, `${billing} of 2 billing windows are shown as settled`);
    await shot(page, '18-final-statement');
  });
  await afterwards();
}

/** Registering, signing, access rules, wallets, the explorer, a phone: on any running node. */
async function afterwards() {
  await step('register an HTTP endpoint agreement: a field error, then a proposal', async () => {
    await page.goto(`${BASE}/#/register`);
    await page.locator('label.kind[data-kind=http]').click();
    await page.locator('#src-url').waitFor();
    await page.locator('#name').fill('shop-e2e');
    await page.locator('#description').fill("univie's web shop, probed over HTTP");
    await page.locator('#channel').selectOption('univie-aws');
    await page.locator('#consumer').fill('univie');
    await page.locator('#provider').fill('aws');
    await page.locator('#src-url').fill('ftp://shop.example/health');
    const preview = await page.locator('[data-testid=yaml-preview]').innerText();
    check(/kind: http/.test(preview) && /ftp:\/\/shop\.example/.test(preview), 'the document preview does not follow the form');
    await page.locator('[data-testid=submit-proposal]').click();
    const err = page.locator('#src-url-error');
    await page.waitForFunction(() => document.querySelector('#src-url-error').textContent.length > 0);
    check(/http:\/\/, https:\/\/ or tcp:\/\//.test(await err.innerText()), `the URL error is: ${await err.innerText()}`);
    check((await page.locator('#src-url').getAttribute('aria-invalid')) === 'true', 'the URL field is not marked invalid');
    check(await page.evaluate(() => document.activeElement && document.activeElement.id === 'src-url'), 'focus did not move to the field in error');
    await shot(page, '06-register-error', {fullPage: false});
    await page.locator('#src-url').fill(`${websiteUrl || 'http://127.0.0.1:9'}/ok`);
    // A day later than the form proposes (the next hour of node time), so that the period does
    // not start before the test ends.
    const start = await page.locator('#start').inputValue();
    const later = (v) => new Date(Date.parse(`${v}:00Z`) + 86400000).toISOString().slice(0, 16);
    await page.locator('#start').fill(later(start));
    await page.locator('#end').fill(later(await page.locator('#end').inputValue()));
    await page.locator('[data-testid=submit-proposal]').click();
    await page.locator('[data-testid=proposed]').waitFor();
    const href = await page.locator('[data-testid=proposed] a[href^="#/tx/"]').getAttribute('href');
    proposalTx = href.slice('#/tx/'.length);
    check(/^[0-9a-f]{64}$/.test(proposalTx), `no transaction id on the success page: ${href}`);
    await shot(page, '07-proposed', {fullPage: false});
    await page.locator('[data-testid=open-proposed]').click();
    await page.locator('[data-status=proposed]').first().waitFor();
    check((await page.locator('[data-testid=accept]').count()) === 0, 'the proposer is offered to sign again');
    check((await page.locator('[data-testid=reject]').innerText()).includes('Withdraw'), 'the proposer is not offered to withdraw');
  });

  await step('bob (aws, provider) sees the proposal and signs it', async () => {
    await signOut(page);
    await signIn(page, 'bob');
    await page.locator('[data-testid=proposals]', {hasText: 'shop-e2e'}).waitFor();
    check((await page.locator('[data-testid=agreement-vm-azure-01]').count()) === 0, "aws sees azure's agreement");
    await shot(page, '08-provider-proposal', {fullPage: false});
    await page.locator('[data-testid=agreement-shop-e2e]').click();
    await page.locator('#proposal').waitFor();
    check(/site/.test(await page.locator('#proposal').innerText()), 'the proposal does not show its service');
    check((await page.locator('[data-testid=reject]').innerText()).trim() === 'Reject', 'the counter-party is not offered to reject');
    await page.locator('[data-testid=accept]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await shot(page, '09-sign-dialog', {fullPage: false});
    await dialog.locator('[data-confirm]').click();
    await page.locator('[data-status=active]').first().waitFor();
    check((await page.locator('[data-testid=accept]').count()) === 0, 'still offered to sign after signing');
  });

  await step("carol (azure) cannot open univie's agreement with aws, nor its channel's transactions", async () => {
    await signOut(page);
    await signIn(page, 'carol');
    await page.locator('[data-testid=agreement-vm-azure-01]').waitFor();
    check((await page.locator('[data-testid=agreement-vm-web-01]').count()) === 0, 'azure sees vm-web-01 in its list');
    await page.goto(`${BASE}/#/agreements/vm-web-01`);
    await page.locator('[data-testid=not-found]').waitFor();
    check((await page.locator('[data-testid=objective-uptime]').count()) === 0, 'azure sees vm-web-01');
    await shot(page, '10-not-visible', {fullPage: false});
    await page.goto(`${BASE}/#/tx/${proposalTx}`);
    await page.locator('[data-testid=tx-not-found]').waitFor();
  });

  await step("alice: agreements, univie's wallet and its movements", async () => {
    await signOut(page);
    await signIn(page, 'alice');
    await page.locator('[data-testid=agreement-shop-e2e]').waitFor();
    // Each badge judges the window holding now, so which tone it shows depends on when this
    // step runs; that a badge turns bad live is checked on the agreement page above.
    const row = page.locator('[data-testid=agreements-table] tr', {has: page.locator('[data-testid=agreement-vm-web-01]')});
    const tones = await row.locator('.badge[data-objective]').evaluateAll((bs) => bs.map((b) => b.dataset.tone));
    check(tones.length === 2 && tones.every((t) => ['good', 'warn', 'bad', 'muted'].includes(t)), `vm-web-01's health badges: ${tones}`);
    await shot(page, '02-agreements', {fullPage: false});
    await page.locator('a[data-nav=wallets]').click();
    await page.locator('[data-testid=balances-table]').waitFor();
    const aws = money(await textOf(page, '[data-testid=balance-univie-aws]'));
    const azure = money(await textOf(page, '[data-testid=balance-univie-azure]'));
    check(aws >= 125 && azure >= 200, `univie's balances are ${aws} (univie-aws) and ${azure} (univie-azure); the penalties should be in them`);
    await page.locator('[data-testid=movements-table]', {hasText: 'Penalty received'}).waitFor();
    await page.locator('[data-testid=movements-table]', {hasText: 'Deposit into escrow'}).waitFor();
    await shot(page, '11-wallets');
  });

  await step('ledger explorer: blocks, a block, a transaction and its proof', async () => {
    await page.locator('a[data-nav=ledger]').click();
    await page.locator('[data-testid=blocks-table] [data-testid=block-link]').first().waitFor();
    const height = Number((await textOf(page, '[data-testid=ledger-height]')).replace('#', ''));
    check(height > 10, `the ledger is only ${height} blocks high`);
    await shot(page, '12-ledger', {fullPage: false});
    await page.locator('[data-testid=blocks-table] [data-testid=block-link]').first().click();
    await page.getByRole('heading', {name: /^Block #\d+$/}).waitFor();
    await shot(page, '13-block', {fullPage: false});
    await page.locator('a[data-nav=ledger]').click();
    await page.locator('[data-testid=blocks-table] [data-testid=block-link]').first().waitFor();
    // Typing survives the redraw that every new block brings. Nothing is due on this channel
    // now (blocks are cut only for transactions and due work), so the bank issues a cent to
    // make one.
    const h0 = await textOf(page, '[data-testid=ledger-height]');
    await page.locator('#tx-search').fill(proposalTx);
    const issued = await fetch(`${BASE}/v1/wallets/univie/issue`, {
      method: 'POST',
      headers: {Authorization: `Bearer ${tokens.treasury.token}`, 'Content-Type': 'application/json'},
      body: JSON.stringify({amount: '0.01', currency: 'EUR', channel: 'univie-aws'}),
    });
    check(issued.status === 201, `issuing a cent to make a block answered ${issued.status}`);
    await page.waitForFunction((h) => document.querySelector('[data-testid=ledger-height]').textContent !== h, h0, {timeout: 30000});
    check((await page.locator('#tx-search').inputValue()) === proposalTx, 'a new block wiped the transaction search field');
    await page.locator('#tx-search').press('Enter');
    const proven = await checkProof(page, '14-transaction');
    provenTx = provenTx || proven;
  });

  await step('a phone-sized screen', async () => {
    const phone = await newPage({width: 390, height: 844});
    await signIn(phone, 'alice');
    await phone.locator('[data-testid=agreement-vm-web-01]').waitFor();
    check(await phone.locator('#nav').evaluate((n) => n.getBoundingClientRect().right <= 0), 'the navigation is not folded away on a phone');
    await shot(phone, '15-phone-agreements');
    await phone.getByRole('button', {name: 'Open navigation'}).click();
    await phone.waitForTimeout(350);
    check(await phone.locator('#nav').evaluate((n) => n.getBoundingClientRect().left >= 0), 'the menu does not open');
    await shot(phone, '16-phone-menu', {fullPage: false});
    await phone.locator('a[data-nav=agreements]').click();
    await phone.locator('[data-testid=agreement-vm-web-01]').click();
    await phone.locator('[data-testid=objective-uptime]').waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `the agreement page is ${overflow}px wider than the phone`);
    await shot(phone, '17-phone-agreement');
    await phone.context().close();
  });

  check(provenTx, 'no proof was checked');
}

/** On a transaction's page: valid, and its downloaded proof checks offline. Returns its id. */
async function checkProof(p, name) {
  await p.locator('[data-testid=proof]').waitFor();
  const id = (await p.locator('[data-testid=tx-id]').innerText()).trim();
  check(/^[0-9a-f]{64}$/.test(id), `the page shows no transaction id: ${id}`);
  check(/Valid/.test(await p.locator('[data-testid=tx-code]').innerText()), 'the transaction is not shown as valid');
  const [download] = await Promise.all([p.waitForEvent('download'), p.locator('[data-testid=download-proof]').click()]);
  const file = path.join(TMP, download.suggestedFilename());
  await download.saveAs(file);
  const proof = JSON.parse(readFileSync(file, 'utf8'));
  const genesis = path.join(DIR, `net/channels/${proof.channel}.block`);
  let out;
  try {
    out = execFileSync(BIN, ['ledger', 'check-proof', file, '--genesis', genesis, '--json'], {encoding: 'utf8'});
  } catch (e) {
    throw new Error(`${current}: slaledger ledger check-proof refused the downloaded proof: ${e.stdout || ''}${e.stderr || ''}`);
  }
  const res = JSON.parse(out);
  check(res.valid === true && res.id === id, `check-proof says ${out}`);
  await shot(p, name);
  return id;
}
