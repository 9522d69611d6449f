import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for headless Chromium that keep all traffic, WebRTC included, on loopback. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebRTC on loopback: gather 127.0.0.1, show real addresses instead of mDNS names.
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // No name is looked up outside: a public STUN server (as in the design note) fails at once.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
  '--autoplay-policy=no-user-gesture-required',
];

/** Launches headless Chromium for e2e tests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
