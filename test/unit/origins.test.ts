import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import {
  isSameOrigin,
  judgeOrigin,
  normalizeOrigin,
  originPolicy,
  type OriginVerdict,
} from '../../src/api/origins.js';
import { contentSecurityPolicy, securityHeaders } from '../../src/api/security-headers.js';

/** A request as the matchers see it: headers and whether the socket is TLS. */
function request(headers: Record<string, string>, encrypted = false): IncomingMessage {
  return { headers, socket: { encrypted } } as unknown as IncomingMessage;
}

describe('origins (pure)', () => {
  describe('normalizeOrigin', () => {
    const cases: [string, string | undefined][] = [
      ['http://example.org', 'http://example.org'],
      ['HTTP://Example.ORG', 'http://example.org'],
      ['http://example.org:80', 'http://example.org'],
      ['https://example.org:443', 'https://example.org'],
      ['https://example.org:80', 'https://example.org:80'],
      ['http://localhost:3000', 'http://localhost:3000'],
      ['http://localhost:3000/', 'http://localhost:3000'],
      ['http://[::1]:8001', 'http://[::1]:8001'],
      ['http://[0:0:0:0:0:0:0:1]', 'http://[::1]'],
      ['http://bücher.example', 'http://xn--bcher-kva.example'],
      [' http://example.org ', 'http://example.org'],
      ['null', 'null'],
      ['NULL', 'null'],
      ['http://example.org/path', undefined],
      ['http://example.org?x', undefined],
      ['http://user@example.org', undefined],
      ['file:///etc/passwd', undefined],
      ['ws://example.org', undefined],
      ['example.org', undefined],
      ['localhost:3000', undefined],
      ['', undefined],
      ['*', undefined],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} → ${String(expected)}`, () => {
        expect(normalizeOrigin(input)).to.equal(expected);
      });
    }
  });

  describe('isSameOrigin', () => {
    const cases: [string, Record<string, string>, boolean, boolean][] = [
      ['http://127.0.0.1:8001', { host: '127.0.0.1:8001' }, false, true],
      ['http://localhost:8001', { host: 'LOCALHOST:8001' }, false, true],
      ['http://localhost', { host: 'localhost:80' }, false, true],
      ['http://localhost', { host: 'localhost' }, false, true],
      ['https://localhost', { host: 'localhost' }, true, true],
      ['https://localhost:8443', { host: 'localhost:8443' }, true, true],
      ['http://[::1]:8001', { host: '[::1]:8001' }, false, true],
      // Another port, host or scheme is another origin.
      ['http://localhost:3000', { host: 'localhost:8001' }, false, false],
      ['http://127.0.0.1:8001', { host: 'localhost:8001' }, false, false],
      ['https://localhost:8001', { host: 'localhost:8001' }, false, false],
      ['http://localhost:8001', { host: 'localhost:8001' }, true, false],
      ['https://localhost', { host: 'localhost' }, false, false],
      // Behind a TLS-terminating proxy.
      [
        'https://scope.example.org',
        { host: 'scope.example.org', 'x-forwarded-proto': 'https' },
        false,
        true,
      ],
      [
        'https://scope.example.org',
        { host: 'scope.example.org', 'x-forwarded-proto': 'https, http' },
        false,
        true,
      ],
      [
        'https://scope.example.org',
        { host: 'scope.example.org', 'x-forwarded-proto': 'gopher' },
        false,
        false,
      ],
      // The opaque origin is never anyone's own; a Host the URL parser would misread never matches.
      ['null', { host: 'localhost' }, false, false],
      ['http://localhost', {}, false, false],
      ['http://localhost', { host: 'evil.example@localhost' }, false, false],
      ['http://evil.example', { host: 'evil.example/x' }, false, false],
    ];
    for (const [origin, headers, tls, expected] of cases) {
      it(`${origin} with ${JSON.stringify(headers)}${tls ? ' over TLS' : ''} → ${expected}`, () => {
        expect(isSameOrigin(origin, request(headers, tls))).to.equal(expected);
      });
    }
  });

  describe('judgeOrigin', () => {
    const judge = (list: string[], origin: string | undefined): OriginVerdict =>
      judgeOrigin(
        request({ host: 'localhost:8001', ...(origin === undefined ? {} : { origin }) }),
        originPolicy(list),
      );

    it('no Origin header is a program, not a page', () => {
      expect(judge([], undefined)).to.deep.equal({ kind: 'none' });
      expect(judge([], '')).to.deep.equal({ kind: 'none' });
    });
    it('the default [] allows the own origin only', () => {
      expect(judge([], 'http://localhost:8001')).to.deep.equal({ kind: 'same-origin' });
      expect(judge([], 'http://localhost:3000')).to.deep.equal({
        kind: 'refused',
        origin: 'http://localhost:3000',
      });
      expect(judge([], 'null')).to.deep.equal({ kind: 'refused', origin: 'null' });
    });
    it('a list matches the normalised origin exactly', () => {
      const list = ['HTTP://LocalHost:3000', 'https://lab.example.org:443'];
      expect(judge(list, 'http://localhost:3000')).to.deep.equal({
        kind: 'listed',
        origin: 'http://localhost:3000',
      });
      expect(judge(list, 'https://lab.example.org')).to.deep.equal({
        kind: 'listed',
        origin: 'https://lab.example.org',
      });
      for (const other of [
        'http://localhost:3001',
        'https://localhost:3000',
        'http://lab.example.org',
        'https://evil.lab.example.org',
        'https://lab.example.org.evil.example',
      ])
        expect(judge(list, other).kind, other).to.equal('refused');
    });
    it("'*' allows any web origin but not the opaque null, which must be listed", () => {
      expect(judge(['*'], 'http://evil.example')).to.deep.equal({
        kind: 'any',
        origin: 'http://evil.example',
      });
      expect(judge(['*'], 'null').kind).to.equal('refused');
      expect(judge(['null'], 'null')).to.deep.equal({ kind: 'listed', origin: 'null' });
      // A listed origin keeps its credentials next to '*'.
      expect(judge(['*', 'http://localhost:3000'], 'http://localhost:3000').kind).to.equal(
        'listed',
      );
    });
    it('an Origin that is not an origin is refused as written', () => {
      expect(judge([], 'http://a.example, http://b.example')).to.deep.equal({
        kind: 'refused',
        origin: 'http://a.example, http://b.example',
      });
    });
  });

  it('HSTS only on TLS connections; CORP cross-origin only for embeddable streams of a listed origin', () => {
    const headersOf = (corsOrigins: string[], url: string, encrypted: boolean) => {
      const headers = new Map<string, string>();
      const res = {
        setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
        removeHeader: (name: string) => headers.delete(name.toLowerCase()),
      };
      let passed = false;
      securityHeaders(corsOrigins)(
        { url, headers: {}, socket: { encrypted } } as never,
        res as never,
        () => (passed = true),
      );
      expect(passed).to.equal(true);
      return headers;
    };
    expect(headersOf([], '/', true).get('strict-transport-security')).to.equal('max-age=31536000');
    expect(headersOf([], '/', false).has('strict-transport-security')).to.equal(false);
    const listed = ['http://localhost:3000'];
    expect(
      headersOf(listed, '/liveview/mjpeg?detectorName=A', false).get(
        'cross-origin-resource-policy',
      ),
    ).to.equal('cross-origin');
    expect(
      headersOf(listed, '/LiveView/snapshot.jpg', false).get('cross-origin-resource-policy'),
    ).to.equal('cross-origin');
    expect(
      headersOf(listed, '/liveview/detectors', false).get('cross-origin-resource-policy'),
    ).to.equal('same-origin');
    expect(headersOf([], '/liveview/mjpeg', false).get('cross-origin-resource-policy')).to.equal(
      'same-origin',
    );
  });

  it('the CSP lets listed origins, and only them, frame the pages', () => {
    expect(contentSecurityPolicy([])['frame-ancestors']).to.deep.equal(["'self'"]);
    expect(
      contentSecurityPolicy(['*', 'null', 'HTTP://localhost:3000/'])['frame-ancestors'],
    ).to.deep.equal(["'self'", 'http://localhost:3000']);
    expect(contentSecurityPolicy([])['script-src']).to.deep.equal(["'self'"]);
  });
});
