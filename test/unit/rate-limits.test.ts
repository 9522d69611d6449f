import { expect } from 'chai';
import { classifyRequest } from '../../src/api/rate-limits.js';
import { parseBaseConfig } from '../../src/core/config.js';
import { parseRateLimits } from '../../src/core/rate-limit-config.js';

describe('rate limits: request classes', () => {
  const table: [method: string, path: string, expected: string | undefined][] = [
    // Starting a viewer session.
    ['POST', '/liveview/webrtc_offer', 'signaling'],
    ['POST', '/liveview/whep/Camera', 'signaling'],
    ['PATCH', '/liveview/whep/Camera/0b7c', 'signaling'],
    ['DELETE', '/liveview/whep/Camera/0b7c', 'signaling'],
    ['GET', '/liveview/mjpeg', 'signaling'],
    ['HEAD', '/liveview/mjpeg', 'signaling'],
    ['GET', '/liveview/snapshot.jpg', 'signaling'],
    // State-changing REST.
    ['POST', '/liveview/startLiveView', 'control'],
    ['POST', '/liveview/stopLiveView', 'control'],
    ['POST', '/liveview/setStreamParams', 'control'],
    ['POST', '/liveview/detectors/Camera/parameters', 'control'],
    ['PUT', '/liveview/detectors/Camera/features/ExposureTime', 'control'],
    ['POST', '/liveview/detectors/Camera/features/ExposureTime', 'control'],
    ['POST', '/liveview/no-such-route', 'control'],
    ['POST', '/auth/logout', 'control'],
    ['POST', '/auth/url-token', 'control'],
    ['POST', '/auth/login', 'login'],
    // Reads, preflights and everything outside the API are not limited.
    ['GET', '/liveview/getActiveStreams', undefined],
    ['GET', '/liveview/getStreamParams', undefined],
    ['GET', '/liveview/detectors/Camera/features/ExposureTime', undefined],
    ['HEAD', '/liveview/protocols', undefined],
    ['GET', '/auth/whoami', undefined],
    ['OPTIONS', '/liveview/whep/Camera', undefined],
    ['OPTIONS', '/liveview/setStreamParams', undefined],
    ['OPTIONS', '/auth/login', undefined],
    ['GET', '/liveview/webrtc_offer', undefined],
    ['GET', '/health', undefined],
    ['GET', '/metrics', undefined],
    ['GET', '/index.html', undefined],
    ['POST', '/health', undefined],
    ['POST', '/liveviewer/setStreamParams', undefined],
    ['POST', '/authx/login', undefined],
  ];
  for (const [method, path, expected] of table) {
    it(`${method} ${path} → ${expected ?? 'not limited'}`, () => {
      expect(classifyRequest(method, path)).to.equal(expected);
    });
  }

  it('classifies the way express routes: any case, a trailing slash, lower-case methods', () => {
    const same: [string, string, string, string][] = [
      ['POST', '/LiveView/WebRTC_offer', 'POST', '/liveview/webrtc_offer'],
      ['POST', '/LIVEVIEW/WHEP/camera', 'POST', '/liveview/whep/Camera'],
      ['GET', '/LiveView/MJPEG', 'GET', '/liveview/mjpeg'],
      ['GET', '/liveview/Snapshot.JPG/', 'GET', '/liveview/snapshot.jpg'],
      ['POST', '/LiveView/SetStreamParams/', 'POST', '/liveview/setStreamParams'],
      ['POST', '/Auth/Login', 'POST', '/auth/login'],
      ['post', '/auth/login/', 'POST', '/auth/login'],
      ['get', '/liveview/mjpeg', 'GET', '/liveview/mjpeg'],
      ['POST', '/liveview/webrtc%5Foffer', 'POST', '/liveview/webrtc_offer'],
    ];
    for (const [m1, p1, m2, p2] of same) {
      expect(classifyRequest(m1, p1), `${m1} ${p1}`).to.equal(classifyRequest(m2, p2));
    }
  });

  it('a malformed percent escape is classified as written, not thrown', () => {
    expect(classifyRequest('POST', '/liveview/%E0%A4%A')).to.equal('control');
    expect(classifyRequest('GET', '/liveview/%')).to.equal(undefined);
  });
});

describe('rate limits: config', () => {
  const problemsOf = (raw: unknown): string[] => {
    const problems: string[] = [];
    parseRateLimits(raw, 'server.rate_limits', problems);
    return problems;
  };

  it('defaults: signaling 600, control 1200, login 30 per 60 s', () => {
    const config = parseRateLimits(undefined, 'server.rate_limits', []);
    expect({ ...config.signaling }).to.deep.equal({ max: 600, window_s: 60 });
    expect({ ...config.control }).to.deep.equal({ max: 1200, window_s: 60 });
    expect({ ...config.login }).to.deep.equal({ max: 30, window_s: 60 });
  });

  it('a class given in part keeps the defaults of the rest', () => {
    const config = parseRateLimits({ control: { max: 3 } }, 'server.rate_limits', []);
    expect({ ...config.control }).to.deep.equal({ max: 3, window_s: 60 });
    expect(config.signaling.max).to.equal(600);
  });

  it('errors name the key path', () => {
    const cases: [unknown, string[]][] = [
      [
        { control: { max: -1 } },
        ['server.rate_limits.control.max: must be an integer between 0 and 1000000'],
      ],
      [
        { signaling: { window_s: 0 } },
        ['server.rate_limits.signaling.window_s: must be an integer between 1 and 86400'],
      ],
      [
        { login: { max: 1.5, window: 60 } },
        [
          'server.rate_limits.login.window: unknown key (known keys: max, window_s)',
          'server.rate_limits.login.max: must be an integer between 0 and 1000000',
        ],
      ],
      [
        { read: { max: 1 } },
        ['server.rate_limits.read: unknown key (known keys: signaling, control, login)'],
      ],
      [{ control: 5 }, ['server.rate_limits.control: must be a mapping of keys to values']],
      ['lots', ['server.rate_limits: must be a mapping']],
      [
        JSON.parse('{"control": {"__proto__": {"max": 1}}}'),
        ['server.rate_limits.control.__proto__: this key name is not allowed'],
      ],
    ];
    for (const [raw, expected] of cases) {
      expect(problemsOf(raw), JSON.stringify(raw)).to.deep.equal(expected);
    }
  });

  it('server.trust_proxy: false, a hop count, addresses, CIDRs and range names; never true', () => {
    const problemsFor = (trust_proxy: unknown): string[] => {
      const problems: string[] = [];
      parseBaseConfig({ server: { trust_proxy } }, '.', problems);
      return problems;
    };
    for (const ok of [
      false,
      0,
      1,
      2,
      'loopback',
      '127.0.0.1',
      'loopback, 10.0.0.0/8',
      ['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8', '192.168.0.0/255.255.0.0', 'uniquelocal'],
    ]) {
      expect(problemsFor(ok), JSON.stringify(ok)).to.deep.equal([]);
    }
    expect(problemsFor(true)[0]).to.match(/^server\.trust_proxy: true would let any client/);
    for (const bad of [-1, 1.5, 'proxy.example.org', ['10.0.0.0/33'], ['::1/129'], [], [1], {}]) {
      expect(problemsFor(bad), JSON.stringify(bad)).to.deep.equal([
        'server.trust_proxy: must be false, a hop count (integer 0..100), or a list of proxy addresses, CIDRs or loopback, linklocal, uniquelocal',
      ]);
    }
  });
});
