// Opens pages of a running pipy whose READMEs, summaries and query strings carry XSS vectors
// (tests/e2e/xss_vectors.txt, uploaded by tests/e2e/test_xss_browser.py) in Debian's headless
// Chromium, and fails if any of them ran: window.__pwned set, a dialog (alert/confirm/
// prompt) or print(), a popup, the page navigating away, a console message or page error
// naming a vector, a frame, or an element or attribute that could run script later (an on*
// handler, a javascript:/vbscript:/data: URL, srcdoc, <svg>, <base>, ...).
//
// Every page is checked twice: as served (with its Content-Security-Policy), and with the
// CSP bypassed, so that the escaping alone is shown to hold (a vector the CSP merely
// blocked would still fail the second pass). CSP violations seen in the first pass are
// counted and printed: a blocked vector is not a failure, but there should be none. Each
// pass starts with a canary page whose vector must be noticed, so a blind checker fails.
//
//   node xss_check.mjs BASE_URL SPEC_JSON
//
// SPEC_JSON: {"pages": [{"path": "/project/x/", "expectText": ["..."]}], "ids": ["x01", ...]}
// Prints one line per page and a summary line "xss_check: N pages, ... csp_violations=K";
// exits 0 when every check holds, 1 otherwise.
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const [base, specPath] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
const idPattern = new RegExp(`pwned|\\b(?:${spec.ids.join('|')})\\b`);

// Runs before any page script (CDP, not subject to the page's CSP): records CSP violations
// and turns print() into a detectable event.
const initScript = () => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
  }, true);
  window.print = () => { window.__pwned = window.__pwned || 'print()'; };
};

// Runs in the page after it settled: everything in the DOM that could run script.
const domFindings = () => {
  const found = [];
  const allowedInReadme = new Set(['P', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'A', 'IMG', 'CODE',
    'PRE', 'EM', 'STRONG', 'DEL', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'UL', 'OL',
    'LI', 'BLOCKQUOTE', 'HR', 'BR', 'SPAN']);
  const forbidden = new Set(['iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base',
    'svg', 'math', 'template', 'style', 'textarea', 'xmp', 'plaintext', 'marquee', 'video',
    'audio', 'source', 'details', 'isindex', 'foreignobject', 'animate', 'set']);
  const urlAttrs = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data',
    'background', 'poster', 'codebase', 'cite', 'ping', 'srcset', 'lowsrc', 'dynsrc']);
  const safeImage = /^data:image\/(png|gif|jpeg|webp);/i;
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (forbidden.has(tag)) {
      found.push(`<${tag}> element`);
    }
    if (tag === 'script' && !(el.getAttribute('src') || '').startsWith('/static/')) {
      found.push(`<script> not from /static/: ${el.outerHTML.slice(0, 80)}`);
    }
    if (tag === 'link' && !(el.getAttribute('rel') === 'stylesheet' &&
                            (el.getAttribute('href') || '').startsWith('/static/'))) {
      found.push(`<link> ${el.outerHTML.slice(0, 80)}`);
    }
    if (tag === 'meta' && el.hasAttribute('http-equiv')) {
      found.push(`<meta http-equiv> ${el.outerHTML.slice(0, 80)}`);
    }
    if (tag === 'form' && el.getAttribute('action') !== '/') {
      found.push(`<form action=${el.getAttribute('action')}>`);
    }
    if (el.closest('.readme') && !allowedInReadme.has(el.tagName) &&
        !el.classList.contains('readme') && !(tag === 'div' && el.closest('.readme') === el)) {
      found.push(`<${tag}> inside the README`);
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) {
        found.push(`${name}= on <${tag}>`);
      }
      // style= only counts in pipy's own HTML (Chromium's text/plain viewer sets one).
      if (name === 'srcdoc' || (name === 'style' && document.contentType === 'text/html')) {
        found.push(`${name}= on <${tag}>`);
      }
      if (urlAttrs.has(name)) {
        let protocol;
        try {
          protocol = new URL(attr.value, document.baseURI).protocol;
        } catch (e) {
          continue;  // not a URL a browser would follow
        }
        const ok = ['http:', 'https:', 'mailto:'].includes(protocol) ||
                   (tag === 'img' && name === 'src' && safeImage.test(attr.value));
        if (!ok) {
          found.push(`${name}="${attr.value.slice(0, 60)}" on <${tag}>`);
        }
      }
    }
  }
  return found;
};

async function checkPage(context, url, expectText) {
  const problems = [];
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  page.on('dialog', async (d) => {
    problems.push(`dialog ${d.type()}: ${d.message()}`);
    await d.dismiss();
  });
  page.on('popup', (p) => problems.push(`popup: ${p.url()}`));
  const consoleCsp = [];
  page.on('console', (m) => {
    const text = m.text();
    if (text.startsWith('Refused to') || text.includes('Content Security Policy')) {
      consoleCsp.push(text);
    } else if (!text.startsWith('Failed to load resource') && idPattern.test(text)) {
      problems.push(`console ${m.type()}: ${text.slice(0, 200)}`);
    }
  });
  let loaded = false;
  page.on('framenavigated', (f) => {
    if (loaded && f === page.mainFrame()) {
      problems.push(`navigated to ${f.url()}`);
    }
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  loaded = true;
  await page.waitForTimeout(300);
  if (!response) {
    problems.push('no response');
  }
  if (new URL(page.url()).href !== new URL(url).href) {
    problems.push(`left the page for ${page.url()}`);
  }
  const pwned = await page.evaluate(() => window.__pwned);
  if (pwned !== undefined) {
    problems.push(`window.__pwned = ${JSON.stringify(pwned)}`);
  }
  if (page.frames().length !== 1) {
    problems.push(`${page.frames().length - 1} frame(s): ` +
                  page.frames().slice(1).map((f) => f.url()).join(' '));
  }
  problems.push(...await page.evaluate(domFindings));
  // Whitespace collapsed on both sides: a summary's runs of spaces render as one.
  const norm = (s) => s.replace(/\s+/g, ' ');
  const text = norm(await page.locator('body').innerText());
  for (const t of expectText || []) {
    if (!text.includes(norm(t).trim())) {
      problems.push(`expected text missing: ${JSON.stringify(t.slice(0, 80))}`);
    }
  }
  const csp = await page.evaluate(() => window.__csp || []);
  await page.close();
  return { problems, csp: csp.length ? csp : consoleCsp, status: response && response.status() };
}

// A page with one vector that runs unless a CSP like pipy's blocks it, served by the
// route below in place of the pipy URL CANARY_PATH.
const CANARY_PATH = '/__xss_check_canary__';
const CANARY = {
  status: 200,
  contentType: 'text/html; charset=utf-8',
  headers: { 'Content-Security-Policy': "default-src 'none'; script-src 'self'" },
  body: '<!doctype html><title>canary</title><img src="data:," ' +
        'onerror="window.__pwned=\'canary\'">',
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--no-first-run'],
});
let failures = 0;
let cspViolations = 0;
let external = 0;
try {
  for (const bypassCSP of [false, true]) {
    const context = await browser.newContext({ bypassCSP });
    await context.addInitScript(initScript);
    // Nothing leaves this server: README images point at example.invalid, and a vector
    // that fetched a URL elsewhere is counted (the CSP would block most; the escaping all).
    await context.route('**/*', (route) => {
      if (route.request().url() === base + CANARY_PATH) {
        return route.fulfill(CANARY);
      }
      if (route.request().url().startsWith(base + '/')) {
        return route.continue();
      }
      external++;
      return route.abort();
    });
    const mode = bypassCSP ? 'csp-bypassed' : 'csp';
    // The checker first proves it sees a vector: run when the CSP is bypassed, blocked
    // (one violation) when it is not. A checker that saw nothing would fail here.
    const canary = await checkPage(context, base + CANARY_PATH, []);
    const seen = bypassCSP ? canary.problems.some((p) => p.startsWith('window.__pwned'))
                           : canary.csp.length > 0 && canary.problems.length > 0;
    if (!seen) {
      throw new Error(`[${mode}] the canary vector went unnoticed: ${JSON.stringify(canary)}`);
    }
    console.log(`ok [${mode}] canary vector noticed (${canary.problems.length} findings, ` +
                `${canary.csp.length} CSP violations)`);
    for (const { path, expectText } of spec.pages) {
      const { problems, csp, status } = await checkPage(context, base + path, expectText);
      if (!bypassCSP) {
        cspViolations += csp.length;
      }
      const tag = problems.length ? 'FAIL' : 'ok';
      console.log(`${tag} [${mode}] ${path} (HTTP ${status}, ${csp.length} CSP violations)`);
      for (const p of problems) {
        console.log(`    ${p}`);
      }
      for (const c of csp) {
        console.log(`    csp: ${c.slice(0, 200)}`);
      }
      failures += problems.length ? 1 : 0;
    }
    await context.close();
  }
  console.log(`xss_check: ${spec.pages.length} pages x 2 modes, ${failures} failed, ` +
              `csp_violations=${cspViolations} external_requests=${external}`);
  process.exitCode = failures ? 1 : 0;
} catch (e) {
  console.error('xss_check: ' + (e && e.stack ? e.stack : e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
