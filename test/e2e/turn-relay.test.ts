import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LiveViewServer } from '../../src/api/server.js';
import { decodePixelCode, pixelCodeHeight } from '../../src/core/pixel-code.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestServer, waitFor } from '../helpers/server.js';

/** Debian's coturn (package `coturn`). */
const TURNSERVER = '/usr/bin/turnserver';
const SECRET = randomBytes(12).toString('hex');

/** A port free for UDP and TCP on 127.0.0.1 (coturn listens on both). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const tcp = createServer();
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => tcp.close(() => resolve(true)));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) return port;
  }
  throw new Error('no free port for coturn');
}

/** Resolves once a STUN Binding request to 127.0.0.1:`port` is answered (coturn is up). */
async function stunAnswers(port: number, timeoutMs: number): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      const request = Buffer.alloc(20);
      request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
      request.writeUInt32BE(0x2112a442, 4); // magic cookie
      randomBytes(12).copy(request, 8);
      const timer = setInterval(() => socket.send(request, port, '127.0.0.1'), 100);
      const deadline = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`coturn did not answer STUN on port ${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on('message', (msg) => {
        if (msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(request.subarray(8, 20))) {
          clearInterval(timer);
          clearTimeout(deadline);
          resolve();
        }
      });
      socket.send(request, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

/** liveview with the TURN server configured (its secret may be wrong). */
function yamlWith(turnPort: number, secret: string): string {
  return `
detectors:
  Camera:
    type: mock
    options: { width: 640, height: 360, fps: 30 }
protocols:
  webrtc:
    ice_host_addresses: [127.0.0.1]
    ice_remote_addresses: [127.0.0.1]
    turn_servers:
      - urls: ['turn:127.0.0.1:${turnPort}?transport=udp']
        secret: '${secret}'
        ttl_s: 600
`;
}

/** Records the config of every RTCPeerConnection and its ICE candidate errors (TURN 401s). */
function recordPeers(): void {
  const Native = window.RTCPeerConnection;
  const w = window as unknown as {
    iceErrors: { code: number; url: string; text: string }[];
    iceConfigs: RTCConfiguration[];
    lastPeer: RTCPeerConnection;
  };
  w.iceErrors = [];
  w.iceConfigs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      w.iceConfigs.push(config ?? {});
      w.lastPeer = this;
      this.addEventListener('icecandidateerror', (e) => {
        const err = e as RTCPeerConnectionIceErrorEvent;
        w.iceErrors.push({ code: err.errorCode, url: err.url, text: err.errorText });
      });
    }
  } as typeof RTCPeerConnection;
}

/** The selected candidate pair of the page's last peer and the frames it decoded. */
function peerStats(page: Page) {
  return page.evaluate(async () => {
    const pc = (window as unknown as { lastPeer?: RTCPeerConnection }).lastPeer;
    if (!pc) return null;
    const report = await pc.getStats();
    let framesDecoded = 0;
    let selected: string | undefined;
    let localCandidates = 0;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video')
        framesDecoded = (s.framesDecoded as number) ?? 0;
      if (s.type === 'transport') selected = s.selectedCandidatePairId as string | undefined;
      if (s.type === 'local-candidate') localCandidates++;
    });
    const byId = report as unknown as Map<string, Record<string, unknown>>;
    const pair = selected ? byId.get(selected) : undefined;
    const local = pair ? byId.get(pair.localCandidateId as string) : undefined;
    const remote = pair ? byId.get(pair.remoteCandidateId as string) : undefined;
    return {
      connectionState: pc.connectionState,
      framesDecoded,
      localCandidates,
      local: local && {
        type: local.candidateType as string,
        relayProtocol: local.relayProtocol as string | undefined,
        url: local.url as string | undefined,
      },
      remoteType: remote?.candidateType as string | undefined,
    };
  });
}

/**
 * Frame numbers read back from the <video> through a canvas (the mock camera's pixel code): the
 * page sends the code's top rows, decoded here (independent of the server's /lib route).
 */
async function frameNumbers(page: Page, selector: string): Promise<number[]> {
  const width = await page.evaluate(
    (sel) => (document.querySelector(sel) as HTMLVideoElement).videoWidth,
    selector,
  );
  const rows = pixelCodeHeight(width);
  const snapshots = await page.evaluate(
    async ({ sel, rows }) => {
      const video = document.querySelector(sel) as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      const out: string[] = [];
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ctx.drawImage(video, 0, 0);
        const data = ctx.getImageData(0, 0, canvas.width, rows).data;
        let binary = '';
        for (let j = 0; j < data.length; j++) binary += String.fromCharCode(data[j]);
        out.push(btoa(binary));
      }
      return out;
    },
    { sel: selector, rows },
  );
  return snapshots
    .map((b64) => decodePixelCode(Buffer.from(b64, 'base64'), width, rows, 4)?.frameNumber)
    .filter((n): n is number => n !== undefined);
}

describe('TURN relay through coturn (e2e, headless Chromium, TURN REST API credentials)', function () {
  this.timeout(90_000);
  let turn: ChildProcess | undefined;
  let turnPort: number;
  let turnLog = '';
  let tmp: string;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let server: LiveViewServer | undefined;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'liveview-turn-'));
    turnPort = await freePort();
    turn = spawn(
      TURNSERVER,
      [
        '-n', // no configuration file (ignore /etc/turnserver.conf)
        '--listening-ip=127.0.0.1',
        '--relay-ip=127.0.0.1',
        `--listening-port=${turnPort}`,
        '--use-auth-secret',
        `--static-auth-secret=${SECRET}`,
        '--realm=liveview.test',
        '--allow-loopback-peers', // liveview and Chromium are on 127.0.0.1
        '--no-tls',
        '--no-dtls',
        '--no-cli',
        '--log-file=stdout',
        '--simple-log',
        '--verbose', // logs each session, allocation and its traffic
        `--pidfile=${join(tmp, 'turnserver.pid')}`,
        `--db=${join(tmp, 'turndb')}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    turn.stdout!.on('data', (d: Buffer) => (turnLog += d.toString()));
    turn.stderr!.on('data', (d: Buffer) => (turnLog += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      turn!.once('exit', (code) => reject(new Error(`turnserver exited (${code}):\n${turnLog}`))),
    );
    await Promise.race([stunAnswers(turnPort, 10_000), exited]);
    browser = await launchChromium();
  });

  beforeEach(async () => {
    context = await browser.newContext();
    await context.addInitScript(recordPeers);
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterEach(async () => {
    await context?.close();
    await server?.stop();
    server = undefined;
    expect(pageErrors).to.deep.equal([]);
  });

  after(async () => {
    await browser?.close();
    if (turn && turn.exitCode === null && turn.signalCode === null) {
      const gone = new Promise((resolve) => turn!.once('exit', resolve));
      turn.kill('SIGTERM');
      const timer = setTimeout(() => turn!.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('webrtc_stream.html with iceTransportPolicy=relay plays through coturn (relay pair, pixel codes)', async () => {
    server = await startTestServer(yamlWith(turnPort, SECRET));
    await page.goto(`${server.url}/webrtc_stream.html?detector=Camera&iceTransportPolicy=relay`);
    const started = Date.now();
    await page.click('#start');
    await page.waitForFunction(
      () => {
        const v = document.getElementById('video') as HTMLVideoElement;
        return v.readyState >= 2 && v.videoWidth > 0;
      },
      undefined,
      { timeout: 20_000 },
    );
    const firstPictureMs = Date.now() - started;

    // The page's peer had the TURN server, with credentials minted for this viewer.
    const configs = await page.evaluate(
      () => (window as unknown as { iceConfigs: RTCConfiguration[] }).iceConfigs,
    );
    expect(configs).to.have.length(1);
    expect(configs[0].iceTransportPolicy).to.equal('relay');
    const [ice] = configs[0].iceServers!;
    expect(ice.urls).to.deep.equal([`turn:127.0.0.1:${turnPort}?transport=udp`]);
    expect(ice.username).to.match(/^\d{10}:anonymous$/);
    const expiry = Number((ice.username as string).split(':')[0]);
    expect(expiry - Date.now() / 1000).to.be.within(590, 601);

    const numbers = await frameNumbers(page, '#video');
    expect(numbers.length, 'frames with a readable code').to.be.greaterThan(7);
    expect(numbers[numbers.length - 1]).to.be.greaterThan(numbers[0]);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).to.be.at.least(numbers[i - 1]);

    const stats = await peerStats(page);
    expect(stats!.connectionState).to.equal('connected');
    expect(stats!.local, 'selected pair').to.not.equal(undefined);
    expect(stats!.local!.type, 'local candidate of the selected pair').to.equal('relay');
    expect(stats!.local!.relayProtocol).to.equal('udp');
    expect(stats!.remoteType).to.equal('host');
    // coturn's own view: an allocation for the minted username, a channel to liveview's address.
    expect(turnLog).to.match(
      new RegExp(`user <${ice.username as string}>: incoming packet ALLOCATE processed, success`),
    );
    expect(turnLog).to.match(/incoming packet CHANNEL_BIND processed, success/);
    expect(turnLog).to.not.include(SECRET);
    console.log(`      (first picture through coturn after ${firstPictureMs} ms)`);
  });

  it('WHEP with the ice_servers route and relay only plays through coturn; the 201 Link carries the minted credentials', async () => {
    server = await startTestServer(yamlWith(turnPort, SECRET));
    await page.goto(`${server.url}/webrtc_stream.html`);
    const result = await page.evaluate(async () => {
      const res = await fetch('/liveview/webrtc/ice_servers?detectorName=Camera');
      const body = (await res.json()) as { iceServers: RTCIceServer[]; expiresAt: number };
      const pc = new RTCPeerConnection({
        iceServers: body.iceServers,
        iceTransportPolicy: 'relay',
      });
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addEventListener('track', (e) => {
        const video = document.getElementById('video') as HTMLVideoElement;
        video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
      });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        else
          pc.addEventListener('icegatheringstatechange', () => {
            if (pc.iceGatheringState === 'complete') resolve();
          });
      });
      const whep = await fetch('/liveview/whep/Camera', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
      await pc.setRemoteDescription({ type: 'answer', sdp: await whep.text() });
      return {
        cacheControl: res.headers.get('cache-control'),
        body,
        status: whep.status,
        link: whep.headers.get('link'),
        offerHasRelay: / typ relay /.test(pc.localDescription!.sdp),
      };
    });
    expect(result.cacheControl).to.equal('no-store');
    expect(result.status).to.equal(201);
    expect(result.offerHasRelay).to.equal(true);
    const [ice] = result.body.iceServers;
    expect(ice.username).to.match(/^\d{10}:anonymous$/);
    expect(result.body.expiresAt).to.equal(Number((ice.username as string).split(':')[0]));
    expect(result.link).to.match(
      new RegExp(
        `^<turn:127\\.0\\.0\\.1:${turnPort}\\?transport=udp>; rel="ice-server"; username="\\d{10}:anonymous"; credential="[A-Za-z0-9+/]{27}="; credential-type="password"$`,
      ),
    );
    await waitFor(async () => ((await peerStats(page))?.framesDecoded ?? 0) > 20, 20_000);
    const stats = await peerStats(page);
    expect(stats!.local!.type).to.equal('relay');
    const numbers = await frameNumbers(page, '#video');
    expect(numbers.length).to.be.greaterThan(7);
    expect(numbers[numbers.length - 1]).to.be.greaterThan(numbers[0]);
  });

  it("the viewer page's WebRTC view (WHEP) with iceTransportPolicy=relay plays through coturn", async () => {
    server = await startTestServer(yamlWith(turnPort, SECRET));
    await page.goto(`${server.url}/?iceTransportPolicy=relay`);
    await page.selectOption('#protocol-select', 'webrtc');
    await page.click('#start');
    await page.waitForFunction(
      () =>
        ((window as unknown as { liveview: { webrtc: { framesDecoded: number } } }).liveview.webrtc
          .framesDecoded ?? 0) > 20,
      undefined,
      { timeout: 20_000 },
    );
    const configs = await page.evaluate(
      () => (window as unknown as { iceConfigs: RTCConfiguration[] }).iceConfigs,
    );
    expect(configs.at(-1)!.iceTransportPolicy).to.equal('relay');
    expect(configs.at(-1)!.iceServers![0].username).to.match(/^\d{10}:anonymous$/);
    const stats = await peerStats(page);
    expect(stats!.local!.type).to.equal('relay');
    const numbers = await frameNumbers(page, '#webrtc-video');
    expect(numbers.length).to.be.greaterThan(7);
    expect(numbers[numbers.length - 1]).to.be.greaterThan(numbers[0]);
    await page.click('#stop');
  });

  it('with a wrong secret in liveview, coturn refuses the credentials: no relay candidate, never connects (bounded)', async () => {
    server = await startTestServer(yamlWith(turnPort, `${SECRET}-wrong`));
    await page.goto(`${server.url}/webrtc_stream.html?detector=Camera&iceTransportPolicy=relay`);
    const started = Date.now();
    await page.click('#start');
    // Chromium reports the TURN server's refusal (401) as an ICE candidate error.
    await waitFor(
      () =>
        page.evaluate(() => (window as unknown as { iceErrors: unknown[] }).iceErrors.length > 0),
      10_000,
    );
    const errors = await page.evaluate(
      () => (window as unknown as { iceErrors: { code: number; url: string }[] }).iceErrors,
    );
    expect(errors.map((e) => e.code)).to.include(401);
    // Give it as long as the good secret needed many times over: it never connects.
    await new Promise((r) => setTimeout(r, 5000));
    const stats = await peerStats(page);
    expect(stats!.connectionState).to.not.equal('connected');
    expect(stats!.localCandidates, 'relay candidates gathered').to.equal(0);
    expect(stats!.framesDecoded).to.equal(0);
    expect(Date.now() - started).to.be.below(20_000);
    const v = await page.evaluate(
      () => (document.getElementById('video') as HTMLVideoElement).videoWidth,
    );
    expect(v).to.equal(0);
  });
});
