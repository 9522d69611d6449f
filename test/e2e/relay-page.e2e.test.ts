import type { Browser } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { launchChromium } from '../helpers/browser.js';
import { freePort } from '../helpers/janus-server.js';
import { startTestServer } from '../helpers/server.js';

describe('web page: relays in the status line (e2e, headless Chromium)', function () {
  this.timeout(30_000);
  let browser: Browser | undefined;
  let server: LiveViewServer | undefined;

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('names each relay of the stream shown, with its state and why it is not live', async () => {
    // Nothing listens there: the relay keeps retrying, and says so.
    const port = await freePort();
    server = await startTestServer(`
detectors:
  Camera: { type: mock, options: { width: 160, height: 120, fps: 10 } }
relays:
  out: { detector: Camera, whip: { url: 'http://127.0.0.1:${port}/whip', reconnect_min_ms: 200, reconnect_max_ms: 1000 } }
`);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.selectOption('#protocol-select', 'webrtc');
    await page
      .waitForFunction(
        () =>
          /^running · \d+ clients? · [\d.]+ fps · \d+ dropped · relay out \(whip\) retrying: WHIP endpoint http:\/\/127\.0\.0\.1:\d+\/whip unreachable: ECONNREFUSED/.test(
            document.querySelector('#status')?.textContent ?? '',
          ),
        undefined,
        { timeout: 10_000 },
      )
      .catch(async (err: unknown) => {
        throw new Error(`status line: ${await page.textContent('#status')}`, { cause: err });
      });
  });
});
