// Drives Debian's headless Chromium (through playwright-core) against a running pipy and
// checks what a person sees: the project list and its filter box, a project page with its
// rendered README and a hostile summary shown as text, an npm package page (README, install
// commands, tarball) when NPM_PACKAGE is given, and the help page.
//
//   node ui_check.mjs BASE_URL PROJECT HOSTILE_PROJECT SCREENSHOT_DIR [NPM_PACKAGE]
//
// Exits 0 when every check holds; otherwise prints the failed check and exits 1.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';

const [base, project, hostile, shots, npmPackage] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--no-first-run'],
});
const errors = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', async (d) => { errors.push('dialog: ' + d.message()); await d.dismiss(); });

  // The project list: every project visible, then the filter box narrows it as one types.
  await page.goto(base + '/');
  const all = await page.locator('#projects li').count();
  assert.ok(all >= 3, `expected at least 3 projects listed, got ${all}`);
  await page.locator('#filter').fill(project.slice(0, 8));
  const visible = await page.locator('#projects li:visible').count();
  const expected = await page.$$eval('#projects li', (items, q) =>
    items.filter((li) => li.getAttribute('data-n').includes(q)).length, project.slice(0, 8));
  assert.ok(visible >= 1 && visible < all, `filter left ${visible} of ${all} visible`);
  assert.equal(visible, expected, 'visible items do not match the filter text');
  await page.locator('#filter').fill('no-such-project-anywhere');
  assert.equal(await page.locator('#projects li:visible').count(), 0, 'filter hides nothing');
  await page.screenshot({ path: path.join(shots, 'projects.png'), fullPage: true });

  // A project page: versions, files and the README rendered from Markdown.
  await page.goto(`${base}/project/${project}/`);
  const heading = await page.locator('h1, h2').allTextContents();
  assert.ok(heading.some((t) => t.includes('Usage guide')), `README heading missing: ${heading}`);
  assert.ok(await page.locator('table').count() >= 1, 'README table not rendered');
  const body = await page.locator('body').innerText();
  assert.ok(body.includes('.whl'), 'no wheel listed on the project page');
  await page.screenshot({ path: path.join(shots, 'project.png'), fullPage: true });

  // A hostile summary and README are shown as text, never run.
  await page.goto(`${base}/project/${hostile}/`);
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'injected script ran');
  assert.equal(await page.locator('img').count(), 0, 'injected <img> element present');
  assert.ok((await page.locator('body').innerText()).includes('<img'),
            'hostile summary not shown as text');

  if (npmPackage) {
    // The list labels each row with its format; the npm row leads to the npm package page.
    await page.goto(base + '/');
    const npmRow = page.locator('#projects li', { hasText: npmPackage });
    assert.equal(await npmRow.count(), 1, `${npmPackage} not listed once`);
    assert.equal(await npmRow.locator('code.format').innerText(), 'npm', 'no npm label');
    const pyRow = page.locator('#projects li', { hasText: project });
    assert.equal(await pyRow.first().locator('code.format').innerText(), 'python',
                 'no python label');
    await npmRow.locator('a').click();
    await page.waitForURL(`**/npm-package/${npmPackage}`);

    // Its README rendered from Markdown, the install commands for this server, a tarball.
    const npmHeadings = await page.locator('h1, h2').allTextContents();
    assert.ok(npmHeadings.some((t) => t.includes('Widget guide')),
              `npm README heading missing: ${npmHeadings}`);
    assert.ok(await page.locator('.readme table').count() >= 1, 'npm README table not rendered');
    assert.ok(await page.locator('.readme code').count() >= 1, 'npm README code not rendered');
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'README script ran');
    const npmBody = await page.locator('body').innerText();
    for (const cmd of [`npm install ${npmPackage}`, `yarn add ${npmPackage}`,
                       `pnpm add ${npmPackage}`]) {
      assert.ok(npmBody.includes(cmd), `install command missing: ${cmd}`);
    }
    const scope = npmPackage.split('/')[0];
    assert.ok(npmBody.includes(`${scope}:registry=${base}/npm/`), 'registry line missing');
    assert.ok(npmBody.includes('<b>for</b>'), 'description not shown as text');
    assert.ok(npmBody.includes('sha512-'), 'integrity missing');
    assert.ok(npmBody.includes('latest'), 'dist-tag missing');
    const tarball = await page.locator('a[href$=".tgz"]').first().getAttribute('href');
    const fetched = await page.request.get(base + tarball);
    assert.equal(fetched.status(), 200, `tarball link ${tarball} answers ${fetched.status()}`);
    await page.screenshot({ path: path.join(shots, 'npm-package.png'), fullPage: true });
  }

  // The help page names this server in the pip, twine and npm settings.
  await page.goto(`${base}/help`);
  const help = await page.locator('body').innerText();
  const host = new URL(base).host;
  assert.ok(help.includes(`${host}/simple/`), 'pip index URL missing from /help');
  assert.ok(help.includes(`${host}/legacy/`), 'twine repository URL missing from /help');
  assert.ok(help.includes(`registry=${base}/npm/`), 'npm registry line missing from /help');
  assert.ok(help.includes(`//${host}/npm/:_authToken=`), 'npm auth line missing from /help');

  assert.deepEqual(errors, [], 'page errors');
  console.log('ui_check: all checks passed');
} catch (e) {
  console.error('ui_check: ' + (e && e.message ? e.message : e));
  if (errors.length) console.error('page errors: ' + errors.join('; '));
  process.exitCode = 1;
} finally {
  await browser.close();
}
