import { expect } from 'chai';
import { ConfigError } from '../../src/core/errors.js';
import { parseStreamParams } from '../../src/core/stream-params.js';
import { WebrtcParams } from '../../src/protocols/webrtc/params.js';
import { iceServersOf } from '../../src/protocols/webrtc/peer.js';
import { iceServerLinks } from '../../src/protocols/webrtc/protocol.js';
import {
  DEFAULT_TURN_TTL_S,
  mintTurnCredential,
  turnUser,
  viewerIceServers,
} from '../../src/protocols/webrtc/turn-credentials.js';

/** 2023-11-14T22:13:20Z: a fixed clock. */
const NOW_MS = 1_700_000_000_000;
const SECRET = 'north-lab-secret';

function problemsOf(raw: unknown): string[] {
  try {
    parseStreamParams(WebrtcParams, raw, 'params');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('TURN REST API credentials (turn-credentials.ts)', () => {
  it('mints <expiry>:<user> and base64(HMAC-SHA1(secret, username)) (vector from openssl)', () => {
    // printf '%s' '1700003600:alice' | openssl dgst -sha1 -hmac 'north-lab-secret' -binary | base64
    expect(mintTurnCredential(SECRET, 'alice', 3600, NOW_MS)).to.deep.equal({
      username: '1700003600:alice',
      credential: 'NAefZXJkffqO84fDhkJnRbNABVs=',
      expiresAt: 1_700_003_600,
    });
  });

  it('rounds the clock down to whole seconds', () => {
    expect(mintTurnCredential(SECRET, 'alice', 3600, NOW_MS + 999).username).to.equal(
      '1700003600:alice',
    );
  });

  it('the user is the subject without ":" (and header-unsafe characters), anonymous if empty', () => {
    expect(turnUser('alice')).to.equal('alice');
    expect(turnUser('urn:lab:alice')).to.equal('urn_lab_alice');
    expect(turnUser('a"b\\c\r\nd é')).to.equal('a_b_c__d _');
    expect(turnUser('')).to.equal('anonymous');
    expect(turnUser(undefined)).to.equal('anonymous');
    expect(turnUser('x'.repeat(200))).to.have.length(64);
  });

  it('viewerIceServers: STUN, static TURN as given, secret TURN minted, earliest expiry', () => {
    const params = parseStreamParams(
      WebrtcParams,
      {
        stun_servers: ['stun:stun.example.org:3478'],
        turn_servers: [
          { urls: ['turn:static.example.org'], username: 'u', credential: 'p' },
          { urls: ['turn:a.example.org', 'turns:a.example.org:5349'], secret: SECRET, ttl_s: 3600 },
          { urls: ['turn:b.example.org'], secret: 'other' },
          { urls: [], secret: 'unused' },
        ],
      },
      'params',
    );
    const ice = viewerIceServers(params, 'alice', NOW_MS);
    const defaultExpiry = 1_700_000_000 + DEFAULT_TURN_TTL_S;
    expect(ice).to.deep.equal({
      iceServers: [
        { urls: 'stun:stun.example.org:3478' },
        { urls: ['turn:static.example.org'], username: 'u', credential: 'p' },
        {
          urls: ['turn:a.example.org', 'turns:a.example.org:5349'],
          username: '1700003600:alice',
          credential: 'NAefZXJkffqO84fDhkJnRbNABVs=',
        },
        {
          urls: ['turn:b.example.org'],
          username: `${defaultExpiry}:alice`,
          credential: mintTurnCredential('other', 'alice', DEFAULT_TURN_TTL_S, NOW_MS).credential,
        },
      ],
      expiresAt: 1_700_003_600,
    });
    expect(viewerIceServers(new WebrtcParams(), 'alice', NOW_MS)).to.deep.equal({
      iceServers: [],
      expiresAt: null,
    });
    // WHEP Link headers carry the same minted credentials.
    expect(iceServerLinks(params, ice)).to.deep.equal([
      '<stun:stun.example.org:3478>; rel="ice-server"',
      '<turn:static.example.org>; rel="ice-server"; username="u"; credential="p"; credential-type="password"',
      '<turn:a.example.org>; rel="ice-server"; username="1700003600:alice"; credential="NAefZXJkffqO84fDhkJnRbNABVs="; credential-type="password"',
      '<turns:a.example.org:5349>; rel="ice-server"; username="1700003600:alice"; credential="NAefZXJkffqO84fDhkJnRbNABVs="; credential-type="password"',
      `<turn:b.example.org>; rel="ice-server"; username="${defaultExpiry}:alice"; credential="${ice.iceServers[3].credential}"; credential-type="password"`,
    ]);
    // The server's own peer gets STUN and static TURN only.
    expect(iceServersOf(params)).to.deep.equal([
      { urls: 'stun:stun.example.org:3478' },
      { urls: 'turn:static.example.org', username: 'u', credential: 'p' },
    ]);
  });
});

describe('TURN secret params', () => {
  it('secret with a static username or credential, a bad ttl_s or secret are refused by key path', () => {
    expect(
      problemsOf({ turn_servers: [{ urls: ['turn:t'], secret: 's3cret', username: 'u' }] }),
    ).to.deep.equal([
      'params.turn_servers.0.secret: give either secret (liveview mints a username and credential per viewer) or a static username and credential, not both',
    ]);
    expect(
      problemsOf({ turn_servers: [{ urls: ['turn:t'], secret: 's', ttl_s: 10 }] }),
    ).to.have.members(['params.turn_servers.0.ttl_s: must be an integer between 60 and 604800']);
    const bad = problemsOf({ turn_servers: [{ urls: ['turn:t'], secret: 'qzx\tqzx' }] });
    expect(bad).to.deep.equal([
      'params.turn_servers.0.secret: must be a string of 1..1024 printable ASCII characters',
    ]);
    // A message never shows the secret.
    expect(bad.join()).to.not.include('qzx');
  });

  it('answers show secrets and credentials as placeholders; sent back, they keep the values', () => {
    const params = parseStreamParams(
      WebrtcParams,
      {
        turn_servers: [
          { urls: ['turn:a'], secret: SECRET },
          { urls: ['turn:b'], username: 'u', credential: 'static-pass' },
        ],
      },
      'params',
    );
    const shown = JSON.stringify(params);
    expect(shown).to.not.include(SECRET);
    expect(shown).to.not.include('static-pass');
    const echoed = JSON.parse(shown) as { turn_servers: Record<string, unknown>[] };
    expect(echoed.turn_servers[0].secret).to.match(/^\(redacted:[0-9a-f]{16}\)$/);
    expect(echoed.turn_servers[1].credential).to.match(/^\(redacted:[0-9a-f]{16}\)$/);
    expect(echoed.turn_servers[1].username).to.equal('u');
    const again = parseStreamParams(WebrtcParams, echoed, 'params');
    expect(again.turn_servers[0].secret).to.equal(SECRET);
    expect(again.turn_servers[1].credential).to.equal('static-pass');
    expect(JSON.stringify(again)).to.equal(shown);
  });

  it('a placeholder this server does not know is refused', () => {
    expect(
      problemsOf({ turn_servers: [{ urls: ['turn:a'], secret: '(redacted:0123456789abcdef)' }] }),
    ).to.deep.equal([
      'params.turn_servers.0.secret: is a placeholder for a hidden value that this server does not know (it restarted, or the params came from another server): send the real value',
    ]);
    expect(
      problemsOf({
        turn_servers: [
          { urls: ['turn:a'], username: 'u', credential: '(redacted:0123456789abcdef)' },
        ],
      }),
    ).to.have.length(1);
  });
});
