import { expect } from 'chai';
import { ConfigError } from '../../src/core/errors.js';
import { parseStreamParams } from '../../src/core/stream-params.js';
import {
  WebrtcParams,
  isHeaderSafe,
  isStunUrl,
  isTurnUrl,
} from '../../src/protocols/webrtc/params.js';
import { checkOffer, rtcpBye } from '../../src/protocols/webrtc/peer.js';
import { iceServerLinks } from '../../src/protocols/webrtc/protocol.js';

function problemsOf(raw: unknown): string[] {
  try {
    parseStreamParams(WebrtcParams, raw, 'params');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** An offer as a browser sends it, trimmed to what checkOffer looks at. */
const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdef012345',
  'a=fingerprint:sha-256 F6:D3:E6:1B:BD:6E:37:F8:2E:89:A0:52:38:14:62:E0:90:79:A0:06:8C:52:90:A7:11:F8:C4:F0:CD:88:EA:30',
  'a=setup:actpass',
  'a=mid:0',
  'a=recvonly',
  'a=rtpmap:96 VP8/90000',
  '',
].join('\r\n');

describe('WebRTC params and offer checks', () => {
  describe('STUN and TURN URLs (RFC 7064, RFC 7065)', () => {
    it('accepts STUN URLs: stun:/stuns:, names, IPv4, IPv6 literals, optional port', () => {
      for (const url of [
        'stun:stun.example.org',
        'stun:stun.example.org:3478',
        'STUN:Stun.Example.org:3478',
        'stuns:stun.example.org:5349',
        'stun:192.0.2.1:19302',
        'stun:[2001:db8::1]:3478',
        'stun:[::1]',
      ]) {
        expect(isStunUrl(url), url).to.equal(true);
      }
    });

    it('rejects anything else as a STUN URL', () => {
      for (const url of [
        'stun:a>\r\nX-Evil: 1',
        'stun:a\nb',
        'stun:',
        'stun:host:',
        'stun:host:0',
        'stun:host:65536',
        'stun:host:123456',
        'stun://host:3478',
        'stun:host:3478?transport=udp',
        'stun:[zz::1]',
        'stun:host name',
        'stun:host"',
        'stun:<host>',
        'turn:host:3478',
        'http://host',
        'host:3478',
        '',
      ]) {
        expect(isStunUrl(url), JSON.stringify(url)).to.equal(false);
      }
      expect(isStunUrl(3478)).to.equal(false);
    });

    it('accepts TURN URLs with an optional transport of udp or tcp', () => {
      for (const url of [
        'turn:turn.example.org',
        'turn:turn.example.org:3478',
        'turn:turn.example.org:3478?transport=udp',
        'turn:turn.example.org?transport=tcp',
        'turns:turn.example.org:5349?transport=tcp',
        'turn:[2001:db8::2]:3478?transport=udp',
      ]) {
        expect(isTurnUrl(url), url).to.equal(true);
      }
      for (const url of [
        'turn:turn.example.org:3478?transport=sctp',
        'turn:turn.example.org:3478?transport=',
        'turn:turn.example.org:3478?foo=bar',
        'turn:a>\r\nX-Evil: 1',
        'stun:turn.example.org',
        'turn:',
      ]) {
        expect(isTurnUrl(url), JSON.stringify(url)).to.equal(false);
      }
    });

    it('a bad STUN URL is rejected naming params.stun_servers and the item', () => {
      expect(problemsOf({ stun_servers: ['stun:a>\r\nX-Evil: 1'] })).to.deep.equal([
        'params.stun_servers: [0] "stun:a>\\r\\nX-Evil: 1" must be a STUN URL such as stun:stun.example.org:3478 (RFC 7064: stun: or stuns:, host, optional port)',
      ]);
      expect(problemsOf({ stun_servers: ['stun:ok.example.org', 'stun:bad:99999'] })[0]).to.match(
        /^params\.stun_servers: \[1\] "stun:bad:99999" must be a STUN URL/,
      );
      expect(problemsOf({ stun_servers: 'stun:x' })).to.deep.equal([
        'params.stun_servers: must be a list of strings',
      ]);
    });

    it('a bad TURN URL, username or credential is rejected naming its key path', () => {
      const problems = problemsOf({
        turn_servers: [
          {
            urls: ['turn:turn.example.org:3478', 'turn:x>\r\nX-Evil: 1'],
            username: 'u"ser',
            credential: 'p\r\nX-Evil: 1',
          },
        ],
      });
      expect(problems).to.have.length(3);
      expect(problems[0]).to.match(
        /^params\.turn_servers\.0\.urls: \[1\] "turn:x>\\r\\nX-Evil: 1" must be a TURN URL such as turn:turn\.example\.org:3478\?transport=udp/,
      );
      expect(problems[1]).to.equal(
        'params.turn_servers.0.username: must be a non-empty string of printable ASCII without quotes or backslashes (it is sent in WHEP Link headers)',
      );
      expect(problems[2]).to.match(/^params\.turn_servers\.0\.credential: must be a non-empty/);
      expect(isHeaderSafe('1700000000:user')).to.equal(true);
      expect(isHeaderSafe('a\\b')).to.equal(false);
      expect(isHeaderSafe('é')).to.equal(false);
    });

    it('turn_servers must be a list', () => {
      expect(problemsOf({ turn_servers: {} })).to.deep.equal([
        'params.turn_servers: must be a list of {urls, username, credential} mappings',
      ]);
    });

    it('valid servers still give the WHEP Link headers', () => {
      const params = parseStreamParams(
        WebrtcParams,
        {
          stun_servers: ['stun:[2001:db8::1]:3478'],
          turn_servers: [
            { urls: ['turns:t.example.org:5349?transport=tcp'], username: 'u', credential: 'p' },
          ],
        },
        'params',
      );
      expect(iceServerLinks(params)).to.deep.equal([
        '<stun:[2001:db8::1]:3478>; rel="ice-server"',
        '<turns:t.example.org:5349?transport=tcp>; rel="ice-server"; username="u"; credential="p"; credential-type="password"',
      ]);
    });
  });

  describe('keyframe_interval_ms', () => {
    it('defaults to 2000 and is bounded to 200..60000', () => {
      expect(new WebrtcParams().keyframe_interval_ms).to.equal(2000);
      expect(parseStreamParams(WebrtcParams, { keyframe_interval_ms: 200 }, 'params')).to.include({
        keyframe_interval_ms: 200,
      });
      for (const bad of [199, 60_001, 1.5, '2000']) {
        expect(problemsOf({ keyframe_interval_ms: bad })).to.deep.equal([
          'params.keyframe_interval_ms: must be an integer between 200 and 60000',
        ]);
      }
    });
  });

  describe('checkOffer', () => {
    it('accepts an offer with fingerprint, ice-ufrag and ice-pwd at media or session level', () => {
      expect(checkOffer(OFFER)).to.equal(OFFER);
      const sessionLevel = OFFER.replace(
        /a=(ice-ufrag|ice-pwd|fingerprint):[^\r]*\r\n/g,
        '',
      ).replace(
        't=0 0\r\n',
        't=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\na=fingerprint:sha-256 AB:CD\r\n',
      );
      expect(checkOffer(sessionLevel)).to.equal(sessionLevel);
    });

    for (const [attribute, what] of [
      ['fingerprint', 'the DTLS certificate fingerprint'],
      ['ice-ufrag', 'the ICE username fragment'],
      ['ice-pwd', 'the ICE password'],
    ]) {
      it(`rejects an offer without a=${attribute} (it can never connect)`, () => {
        const offer = OFFER.replace(new RegExp(`a=${attribute}:[^\\r]*\\r\\n`), '');
        expect(() => checkOffer(offer)).to.throw(
          `the SDP offer has no a=${attribute} (${what}) at session or media level, so it could never connect`,
        );
        const empty = OFFER.replace(new RegExp(`(a=${attribute}:)[^\\r]*`), '$1 ');
        expect(() => checkOffer(empty)).to.throw(`no a=${attribute}`);
      });
    }
  });

  it('rtcpBye builds an RFC 3550 BYE with the source and a padded reason', () => {
    const bytes = (rtcpBye(0x01020304, 'bye') as unknown as { serialize(): Buffer }).serialize();
    expect([...bytes]).to.deep.equal([0x81, 203, 0, 2, 1, 2, 3, 4, 3, ...Buffer.from('bye')]);
    const plain = (rtcpBye(7, '') as unknown as { serialize(): Buffer }).serialize();
    expect([...plain]).to.deep.equal([0x81, 203, 0, 1, 0, 0, 0, 7]);
  });
});
