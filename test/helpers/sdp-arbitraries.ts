/**
 * fast-check arbitraries for SDP offers and trickle-ICE fragments: real offers damaged line by
 * line, and fragments of candidate lines with fields out of range.
 */
import fc from 'fast-check';
import { nastyNumber, nastyString } from './arbitraries.js';

/** Splits SDP into lines, keeping what ends each one. */
function lines(sdp: string): string[] {
  return sdp.split(/(?<=\r?\n)/);
}

/** One change to an SDP text. */
export type SdpMutation = (sdp: string) => string;

const nastyLine: fc.Arbitrary<string> = fc.oneof(
  nastyString,
  fc.constantFrom(
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'm=video 0 RTP/AVP',
    'm=video 99999999999 UDP/TLS/RTP/SAVPF x',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'a=rtpmap:96 VP8/90000',
    'a=rtpmap:97 H264/90000',
    'a=rtpmap:4294967296 VP8/90000',
    'a=fmtp:97 packetization-mode=1',
    'a=fmtp:97 packetization-mode=0',
    'a=group:BUNDLE 0 1 2 3',
    'a=mid:',
    'a=mid:😀',
    'a=ice-ufrag:',
    'a=ice-pwd:',
    'a=fingerprint:sha-256 ZZ',
    'a=fingerprint:md5 00',
    'a=setup:bogus',
    'a=candidate:1 1 udp 1 127.0.0.1 0 typ host',
    'a=candidate:',
    'a=ssrc:abc cname:x',
    'a=extmap:999 urn:x',
    'a=rtcp-fb:96',
    'c=IN IP4 999.1.1.1',
    'c=IN IP6',
    'b=AS:-1',
    'v=1',
    'o=',
    't=',
    's=',
    '',
  ),
);

/** Ways of damaging an SDP offer: lines dropped, duplicated, replaced, inserted; line ends changed; cut. */
export const sdpMutation: fc.Arbitrary<SdpMutation> = fc.oneof(
  fc.nat().map((i) => (sdp: string) => {
    const ls = lines(sdp);
    ls.splice(i % Math.max(ls.length, 1), 1);
    return ls.join('');
  }),
  fc.nat().map((i) => (sdp: string) => {
    const ls = lines(sdp);
    const at = i % Math.max(ls.length, 1);
    ls.splice(at, 0, ls[at] ?? '');
    return ls.join('');
  }),
  fc.tuple(fc.nat(), nastyLine).map(([i, line]) => (sdp: string) => {
    const ls = lines(sdp);
    ls[i % Math.max(ls.length, 1)] = `${line}\r\n`;
    return ls.join('');
  }),
  fc.tuple(fc.nat(), nastyLine).map(([i, line]) => (sdp: string) => {
    const ls = lines(sdp);
    ls.splice(i % (ls.length + 1), 0, `${line}\r\n`);
    return ls.join('');
  }),
  fc.constantFrom<SdpMutation>(
    (sdp) => sdp.replace(/\r\n/g, '\n'),
    (sdp) => sdp.replace(/\r\n/g, '\r'),
    (sdp) => sdp.replace(/VP8/g, 'VP9').replace(/H264/g, 'H265'),
    (sdp) => sdp.replace(/packetization-mode=1/g, 'packetization-mode=0'),
    (sdp) => sdp.replace(/^m=video .*$/m, 'm=video 9 UDP/TLS/RTP/SAVPF'),
    (sdp) => sdp.replace(/^a=fingerprint:.*$/gm, ''),
    (sdp) => sdp.replace(/^a=ice-ufrag:.*$/gm, 'a=ice-ufrag:'),
    (sdp) => `\ufeff${sdp}`,
    (sdp) => ` ${sdp}`,
    (sdp) => sdp + sdp,
    (sdp) => sdp.toUpperCase(),
  ),
  fc.nat().map((n) => (sdp: string) => sdp.slice(0, n % (sdp.length + 1))),
);

/** A real offer with 1–3 mutations. */
export function mutatedOffer(offer: string): fc.Arbitrary<string> {
  return fc
    .array(sdpMutation, { minLength: 1, maxLength: 3 })
    .map((ms) => ms.reduce((sdp, m) => m(sdp), offer));
}

const field = (valid: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 3, arbitrary: valid }, nastyString, nastyNumber.map(String));

/** An ICE candidate line value (after `a=`), valid-looking with fields possibly wrong. */
export const candidate: fc.Arbitrary<string> = fc
  .record({
    foundation: field(fc.constantFrom('1', 'abc', '842163049')),
    component: field(fc.constantFrom('1', '2')),
    transport: field(fc.constantFrom('udp', 'UDP', 'tcp')),
    priority: field(fc.constantFrom('2113937151', '1', '0')),
    address: field(fc.constantFrom('127.0.0.1', '::1', '0.0.0.0', '255.255.255.255', '127.0.0.1')),
    port: field(fc.constantFrom('50000', '9', '65535', '1')),
    type: field(fc.constantFrom('host', 'srflx', 'relay', 'prflx')),
    extra: fc.constantFrom(
      '',
      ' generation 0',
      ' tcptype active',
      ' raddr 0.0.0.0 rport 0',
      ' ufrag x',
    ),
  })
  .map(
    (c) =>
      `candidate:${c.foundation} ${c.component} ${c.transport} ${c.priority} ${c.address} ${c.port} typ ${c.type}${c.extra}`,
  );

/** A trickle-ICE SDP fragment (RFC 8840 style), valid-looking or damaged. */
export const trickleFragment: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 4, arbitrary: candidate.map((c) => `a=${c}`) },
        fc.constantFrom(
          'a=mid:0',
          'a=mid:1',
          'a=mid:',
          'a=mid:😀',
          'a=ice-ufrag:abcd',
          'a=ice-pwd:x',
          'a=end-of-candidates',
          'm=video 9 UDP/TLS/RTP/SAVPF 96',
          'a=candidate:',
          'a=candidate',
        ),
        nastyString.map((s) => `a=${s}`),
        nastyString,
      ),
      { maxLength: 5 },
    ),
    fc.constantFrom('\r\n', '\n', '\r'),
    fc.boolean(),
  )
  .map(([ls, eol, trailing]) => ls.join(eol) + (trailing ? eol : ''));
