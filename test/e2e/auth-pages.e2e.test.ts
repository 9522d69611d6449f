import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { launchChromium } from '../helpers/browser.js';
import { getJson, startTestServer, waitFor } from '../helpers/server.js';

// The browser suite with authentication on (issue 13): the login page, the operator's and the
// viewer's main page in every view, the standalone WebRTC page, log-out, the session cookie's
// flags; and, with authentication off, a page without login UI.

const VIEWER_TOKEN = 'viewer-token-0123456789abcdef';
const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';

const DETECTORS = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 20 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1], ice_remote_addresses: [127.0.0.1] }
`;

const AUTH_YAML = `${DETECTORS}
auth:
  tokens:
    - { name: vera, token: ${VIEWER_TOKEN}, role: viewer }
    - { name: otto, token: ${OPERATOR_TOKEN}, role: operator }
`;

const PROTOCOLS = ['mjpeg', 'webrtc', 'binary'] as const;
type ProtocolName = (typeof PROTOCOLS)[number];

interface StreamInfo {
  detectorName: string;
  protocol: string;
  clientCount: number;
}

/** What the main page publishes for tests as `window.liveview`. */
interface PageState {
  lastFrame: { frameNumber: number; latencyMs: number } | null;
  binary: { frames: number; lastFrame: { frameNumber: number } | null };
}

/** Newest frame number the page shows for `protocol`: the pixel code, or the binary packet's. */
function shownFrameNumber(page: Page, protocol: ProtocolName): Promise<number | null> {
  return page.evaluate((p) => {
    const state = (window as unknown as { liveview?: PageState }).liveview;
    if (!state) return null;
    return (p === 'binary' ? state.binary.lastFrame : state.lastFrame)?.frameNumber ?? null;
  }, protocol);
}

/** Waits for a first frame, then for the frame number to grow by a few; a failure says what the page showed. */
async function expectFramesAdvance(page: Page, protocol: ProtocolName): Promise<void> {
  try {
    await waitFor(async () => (await shownFrameNumber(page, protocol)) !== null, 15_000);
    const first = (await shownFrameNumber(page, protocol))!;
    await waitFor(
      async () => ((await shownFrameNumber(page, protocol)) ?? -1) >= first + 3,
      10_000,
    );
  } catch (err) {
    const shown = await page.evaluate(() =>
      ['error', 'frame-info', 'status'].map((id) => document.getElementById(id)?.textContent),
    );
    throw new Error(
      `${protocol}: no advancing frames (${(err as Error).message}); page: ${JSON.stringify(shown)}`,
      { cause: err },
    );
  }
}

describe('pages with authentication on (e2e, headless Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let context: BrowserContext | undefined;
  let server: LiveViewServer | undefined;
  let page: Page;
  /** Uncaught exceptions and console errors of the page; each test says which it expects. */
  let pageErrors: string[];
  let expectedErrors: RegExp[];

  /** Streams the server runs, as an operator's API call sees them. */
  async function streams(): Promise<StreamInfo[]> {
    const res = await fetch(`${server!.url}/liveview/getActiveStreams`, {
      headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    return ((await res.json()) as { streams: StreamInfo[] }).streams;
  }

  /** On the login page: types `token`, submits, and waits for the page to be left. */
  async function submitToken(token: string): Promise<void> {
    await page.fill('#token', token);
    await Promise.all([
      page.waitForURL((url) => url.pathname !== '/login.html'),
      page.click('button[type="submit"]'),
    ]);
  }

  /** Opens `/`, is sent to the login page, logs in with `token`, waits for the detector list. */
  async function logIn(token: string): Promise<void> {
    await page.goto(`${server!.url}/`);
    expect(new URL(page.url()).pathname).to.equal('/login.html');
    await submitToken(token);
    expect(new URL(page.url()).pathname).to.equal('/');
    await page.waitForFunction(
      () => document.querySelectorAll('#detector-select option').length > 0,
    );
  }

  /** Starts `protocol` through the page's select and Start button. */
  async function startView(protocol: ProtocolName): Promise<void> {
    await page.selectOption('#protocol-select', protocol);
    await page.waitForFunction(
      () => !(document.getElementById('start') as HTMLButtonElement).disabled,
    );
    await page.click('#start');
  }

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    server = await startTestServer(AUTH_YAML);
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    pageErrors = [];
    expectedErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    await server?.stop();
    server = undefined;
    expect(pageErrors.filter((e) => !expectedErrors.some((re) => re.test(e)))).to.deep.equal([]);
  });

  it('sends / to the login page; a wrong token shows an error there; the right one returns to / and shows the user', async () => {
    await page.goto(`${server!.url}/`);
    const login = new URL(page.url());
    expect(login.pathname).to.equal('/login.html');
    expect(login.searchParams.get('next')).to.equal('/');
    expect(await page.isVisible('#error')).to.equal(false);

    // An empty field is refused by the page itself, with a message that says what to do.
    await page.click('button[type="submit"]');
    await page.waitForSelector('#error', { state: 'visible' });
    expect(await page.textContent('#error')).to.equal(
      'could not log in: paste your access token first',
    );

    // The failed POST /auth/login is logged by Chromium as a failed resource load.
    expectedErrors.push(/status of 401/);
    await page.fill('#token', 'not-a-token-of-this-server');
    await page.click('button[type="submit"]');
    await page.waitForFunction(() =>
      /invalid token/.test(document.getElementById('error')?.textContent ?? ''),
    );
    expect(await page.isVisible('#error')).to.equal(true);
    expect(await page.textContent('#error')).to.match(/^could not log in: invalid token/);
    expect(page.url()).to.equal(login.href);
    expect((await context!.cookies()).map((c) => c.name)).to.not.include('liveview_session');

    await submitToken(OPERATOR_TOKEN);
    expect(page.url()).to.equal(`${server!.url}/`);
    await page.waitForSelector('#user', { state: 'visible' });
    expect(await page.textContent('#user-name')).to.equal('otto (operator)');
    expect(await page.isVisible('#logout')).to.equal(true);
    await page.waitForFunction(
      () => document.querySelectorAll('#detector-select option').length > 0,
    );
    expect(await page.isVisible('#error')).to.equal(false);
  });

  it('the session cookie is HttpOnly and SameSite=Strict', async () => {
    await logIn(VIEWER_TOKEN);
    const cookie = (await context!.cookies()).find((c) => c.name === 'liveview_session');
    expect(cookie, 'session cookie').to.not.equal(undefined);
    expect(cookie!.httpOnly).to.equal(true);
    expect(cookie!.sameSite).to.equal('Strict');
    expect(cookie!.path).to.equal('/');
    expect(cookie!.expires).to.be.greaterThan(Date.now() / 1000);
    expect(await page.evaluate(() => document.cookie)).to.not.include('liveview_session');
    // The page itself can prove who it is only through the cookie the browser sends.
    const whoami = await page.evaluate(async () => (await fetch('/auth/whoami')).json());
    expect(whoami).to.include({
      authenticated: true,
      subject: 'vera',
      role: 'viewer',
      via: 'session',
    });
  });

  it('operator: MJPEG, WebRTC and binary each start, show advancing frames and stop', async () => {
    await logIn(OPERATOR_TOKEN);
    expect(await page.textContent('#user-name')).to.equal('otto (operator)');
    expect(await page.isDisabled('#parameters button[type="submit"]')).to.equal(false);
    for (const protocol of PROTOCOLS) {
      await startView(protocol);
      await expectFramesAdvance(page, protocol);
      const running = (await streams()).find((s) => s.protocol === protocol);
      expect(running?.clientCount, `${protocol} clients`).to.equal(1);
      expect(await page.isVisible('#error'), `${protocol}: error shown`).to.equal(false);
      await page.click('#stop');
      // Stop ends the stream (stopLiveView), not only the page's connection.
      await waitFor(async () => !(await streams()).some((s) => s.protocol === protocol), 8000);
      await page.waitForFunction(
        () => !(document.getElementById('start') as HTMLButtonElement).disabled,
      );
      expect(await page.isVisible('#error'), `${protocol}: error after stop`).to.equal(false);
    }
  });

  it('operator: after logging in through next=, the standalone webrtc_stream.html plays', async () => {
    await page.goto(`${server!.url}/webrtc_stream.html?detector=Camera`);
    const login = new URL(page.url());
    expect(login.pathname).to.equal('/login.html');
    expect(login.searchParams.get('next')).to.equal('/webrtc_stream.html?detector=Camera');
    await submitToken(OPERATOR_TOKEN);
    expect(page.url()).to.equal(`${server!.url}/webrtc_stream.html?detector=Camera`);

    await page.click('#start');
    await page.waitForFunction(
      () => document.getElementById('status')!.textContent === 'connected',
      undefined,
      {
        timeout: 15_000,
      },
    );
    expect(await page.textContent('#error')).to.equal('');
    // Frame numbers from the pixel code of the <video>, read a few times over a second.
    const numbers = await page.evaluate(async () => {
      const { decodePixelCode } = (await import('/lib/pixel-code.js' as string)) as {
        decodePixelCode: (
          d: Uint8ClampedArray,
          w: number,
          h: number,
          c: number,
        ) => { frameNumber: number } | null;
      };
      const video = document.getElementById('video') as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const out: number[] = [];
      for (let i = 0; i < 40 && out.length < 8; i++) {
        await new Promise((r) => setTimeout(r, 100));
        if (video.videoWidth === 0) continue;
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        const code = decodePixelCode(
          ctx.getImageData(0, 0, canvas.width, canvas.height).data,
          canvas.width,
          canvas.height,
          4,
        );
        if (code) out.push(code.frameNumber);
      }
      return out;
    });
    expect(numbers.length, 'frames with a readable code').to.be.at.least(5);
    expect(numbers[numbers.length - 1]).to.be.greaterThan(numbers[0]);
    // Stop only closes the peer (the note's signaling has no session to DELETE): the server
    // notices the closed peer after a few seconds.
    await page.click('#stop');
    await waitFor(async () => {
      const worker = server!.controller.findStream('Camera', 'webrtc');
      return !worker || worker.sessions.size === 0;
    }, 15_000);
  });

  it('viewer: every view plays without startLiveView, Apply is disabled, no 403 is shown', async () => {
    const startCalls: string[] = [];
    page.on('request', (r) => {
      if (/\/liveview\/(start|stop)LiveView/.test(r.url())) startCalls.push(r.url());
    });
    const refused: string[] = [];
    page.on('response', (r) => {
      if (r.status() === 401 || r.status() === 403) refused.push(`${r.status()} ${r.url()}`);
    });
    await logIn(VIEWER_TOKEN);
    expect(await page.textContent('#user-name')).to.equal('vera (viewer)');
    expect(await page.isDisabled('#parameters button[type="submit"]')).to.equal(true);

    for (const protocol of PROTOCOLS) {
      await startView(protocol);
      await expectFramesAdvance(page, protocol);
      // Started on demand by the viewer's own connection.
      const running = (await streams()).find((s) => s.protocol === protocol);
      expect(running?.clientCount, `${protocol} clients`).to.equal(1);
      expect(await page.isVisible('#error'), `${protocol}: error shown`).to.equal(false);
      await page.click('#stop');
      await page.waitForFunction(
        () => !(document.getElementById('start') as HTMLButtonElement).disabled,
      );
      // Leaving is all a viewer does: the stream loses its client.
      await waitFor(async () => {
        const s = (await streams()).find((x) => x.protocol === protocol);
        return !s || s.clientCount === 0;
      }, 8000);
      expect(await page.isVisible('#error'), `${protocol}: error after stop`).to.equal(false);
    }
    expect(startCalls).to.deep.equal([]);
    expect(refused).to.deep.equal([]);
  });

  it('viewer: Log out leads to the login page; / then redirects there again and the API answers 401', async () => {
    await logIn(VIEWER_TOKEN);
    await page.waitForSelector('#logout', { state: 'visible' });
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/login.html'),
      page.click('#logout'),
    ]);
    expect((await context!.cookies()).map((c) => c.name)).to.not.include('liveview_session');

    await page.goto(`${server!.url}/`);
    expect(new URL(page.url()).pathname).to.equal('/login.html');
    expect(new URL(page.url()).searchParams.get('next')).to.equal('/');

    // The context's request API sends the context's cookies: there are none left.
    const res = await context!.request.get(`${server!.url}/liveview/getActiveStreams`);
    expect(res.status()).to.equal(401);
    expect(await res.json()).to.include({ status: 'error' });
    const whoami = await page.evaluate(async () => (await fetch('/auth/whoami')).json());
    expect(whoami).to.include({ authEnabled: true, authenticated: false });
  });
});

describe('pages with authentication off (e2e, headless Chromium)', function () {
  this.timeout(30_000);
  let browser: Browser;
  let context: BrowserContext | undefined;
  let server: LiveViewServer | undefined;

  before(async () => {
    browser = await launchChromium();
    server = await startTestServer(DETECTORS);
  });
  after(async () => {
    await context?.close();
    await server?.stop();
    await browser?.close();
  });

  it('shows no login UI and no user box; the page works as before', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
    await page.goto(`${server!.url}/`);
    expect(new URL(page.url()).pathname).to.equal('/');
    await page.waitForFunction(
      () => document.querySelectorAll('#detector-select option').length > 0,
    );
    expect(await page.isHidden('#user')).to.equal(true);
    expect(await page.isDisabled('#parameters button[type="submit"]')).to.equal(false);
    const { json } = await getJson(`${server!.url}/auth/whoami`);
    expect(json).to.include({ authEnabled: false });
    await page.click('#start');
    await expectFramesAdvance(page, 'mjpeg');
    await page.click('#stop');
    await waitFor(async () => {
      const { json: active } = await getJson(`${server!.url}/liveview/getActiveStreams`);
      return (active.streams as StreamInfo[]).length === 0;
    }, 8000);
    expect(await page.isVisible('#error')).to.equal(false);
    expect(pageErrors).to.deep.equal([]);
  });
});
