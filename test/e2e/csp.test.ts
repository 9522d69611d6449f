import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 20 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`;

/** The login page, if the tree has one (it comes with authentication). */
const LOGIN_PAGE = fileURLToPath(new URL('../../../web/login.html', import.meta.url));

/** What the page publishes for tests as `window.liveview`. */
interface PageState {
  lastFrame: { frameNumber: number } | null;
  binary: { frames: number };
  webrtc: { framesDecoded: number };
}

/** Records CSP violations as the page sees them, from before its first script runs. */
const RECORD_VIOLATIONS = `
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '(inline)'));
});
`;

describe('Content-Security-Policy in headless Chromium (e2e)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let context: BrowserContext;
  let server: LiveViewServer;
  let page: Page;
  let consoleErrors: string[];

  const violations = (): Promise<string[]> =>
    page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  const state = (): Promise<PageState> =>
    page.evaluate(() => (window as unknown as { liveview: PageState }).liveview);

  before(async () => {
    browser = await launchChromium();
  });
  beforeEach(async () => {
    server = await startTestServer(YAML);
    context = await browser.newContext();
    await context.addInitScript(RECORD_VIOLATIONS);
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  });
  afterEach(async () => {
    await context?.close();
    await server?.stop();
  });
  after(async () => {
    await browser?.close();
  });

  /** No violation event and no console error (Chromium logs each violation there too). */
  async function expectClean(): Promise<void> {
    expect(await violations()).to.deep.equal([]);
    expect(consoleErrors).to.deep.equal([]);
  }

  it('the page is served with the policy', async () => {
    const response = await page.goto(`${server.url}/`);
    expect(response?.headers()['content-security-policy']).to.include("script-src 'self'");
  });

  it('index page, MJPEG view: the live image appears and its pixel code is read', async () => {
    await page.goto(`${server.url}/`);
    await page.waitForFunction(
      () => document.querySelectorAll('#detector-select option').length > 0,
    );
    await page.click('#start');
    await page.waitForFunction(
      () => (document.getElementById('video') as HTMLImageElement).naturalWidth > 0,
    );
    await page.waitForFunction(
      () => (window as unknown as { liveview: PageState }).liveview.lastFrame !== null,
    );
    await page.click('#stop');
    await expectClean();
  });

  it('index page, binary view: lossless frames are drawn', async () => {
    await page.goto(`${server.url}/`);
    await page.selectOption('#protocol-select', 'binary');
    await page.click('#start');
    await page.waitForFunction(
      () => (window as unknown as { liveview: PageState }).liveview.binary.frames >= 3,
    );
    expect(await page.isVisible('#binary-canvas')).to.equal(true);
    await page.click('#stop');
    await expectClean();
  });

  it('index page, WebRTC view: video frames are decoded', async () => {
    await page.goto(`${server.url}/`);
    await page.selectOption('#protocol-select', 'webrtc');
    await page.click('#start');
    await page.waitForFunction(
      () => (window as unknown as { liveview: PageState }).liveview.webrtc.framesDecoded > 10,
      undefined,
      { timeout: 20_000 },
    );
    await page.waitForFunction(
      () => (window as unknown as { liveview: PageState }).liveview.lastFrame !== null,
    );
    expect((await state()).webrtc.framesDecoded).to.be.greaterThan(10);
    await page.click('#stop');
    await expectClean();
  });

  it('webrtc_stream.html: styled from its file, the video plays', async () => {
    await page.goto(`${server.url}/webrtc_stream.html?detector=Camera`);
    // The stylesheet applies: the form is a flex row, as its inline <style> used to make it.
    expect(await page.$eval('#form', (f) => getComputedStyle(f).display)).to.equal('flex');
    await page.click('#start');
    await page.waitForFunction(() => {
      const v = document.getElementById('video') as HTMLVideoElement;
      return v.readyState >= 2 && v.videoWidth > 0;
    });
    await page.click('#stop');
    await expectClean();
  });

  it('login.html (when present) loads without a violation', async function () {
    if (!existsSync(LOGIN_PAGE)) this.skip();
    await page.goto(`${server.url}/login.html`);
    await page.waitForLoadState('networkidle');
    expect(await violations()).to.deep.equal([]);
    expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).to.deep.equal([]);
  });

  it('the policy does block inline script (it is in force)', async () => {
    await page.goto(`${server.url}/webrtc_stream.html`);
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.append(s);
    });
    await page.waitForFunction(
      () => (window as unknown as { __cspViolations: string[] }).__cspViolations.length > 0,
    );
    expect(await page.evaluate(() => '__inlineRan' in window)).to.equal(false);
    expect((await violations())[0]).to.match(/^script-src/);
  });

  describe('Cross-Origin-Resource-Policy of the stream, seen from a page of another origin', () => {
    let other: http.Server;
    let otherUrl: string;
    beforeEach(async () => {
      // A frontend on another port, like ImSwitch's: a page with no policy of its own.
      other = http.createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!doctype html><title>frontend</title><img id="live" alt="">');
      });
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    });

    /** Loads `src` into the other page's <img>; resolves with its width (0 when blocked). */
    const embed = (src: string): Promise<number> =>
      page.evaluate(
        (url) =>
          new Promise<number>((resolve) => {
            const img = document.getElementById('live') as HTMLImageElement;
            img.onerror = () => resolve(0);
            img.onload = () => resolve(img.naturalWidth);
            // An MJPEG stream fires no load event; its first picture gives it a width.
            const poll = setInterval(() => {
              if (img.naturalWidth > 0) {
                clearInterval(poll);
                resolve(img.naturalWidth);
              }
            }, 50);
            img.src = url;
          }),
        src,
      );

    it('an origin listed in cors_origins embeds the MJPEG stream with <img src>', async () => {
      await server.stop();
      server = await startTestServer(`${YAML}\nserver: { cors_origins: ['${otherUrl}'] }\n`);
      await page.goto(otherUrl);
      expect(await embed(`${server.url}/liveview/mjpeg?detectorName=Camera`)).to.equal(320);
      await page.evaluate(() => document.getElementById('live')!.removeAttribute('src'));
    });

    it('with the default cors_origins the browser refuses to embed it', async () => {
      await page.goto(otherUrl);
      expect(await embed(`${server.url}/liveview/snapshot.jpg?detectorName=Camera`)).to.equal(0);
      // Chromium reports the blocked response on the console; that is the point here.
      consoleErrors.length = 0;
    });
  });
});
