import { expect } from 'chai';
import { hostName, hostPolicy, isHostAllowed } from '../../src/api/hosts.js';

describe('allowed hosts (pure)', () => {
  describe('hostName', () => {
    const cases: [string, string | undefined][] = [
      ['localhost', 'localhost'],
      ['LocalHost:8001', 'localhost'],
      ['localhost.:8001', 'localhost'],
      ['127.0.0.1:8001', '127.0.0.1'],
      ['[::1]:8001', '::1'],
      ['[::1]', '::1'],
      ['[FE80::1]', 'fe80::1'],
      ['Scope.Example.ORG', 'scope.example.org'],
      ['example.org:', 'example.org'],
      ['::1', undefined],
      ['[example.org]', undefined],
      ['[::1', undefined],
      ['evil.example@localhost', undefined],
      ['evil.example/x', undefined],
      ['a b', undefined],
      ['', undefined],
      ['host:port', undefined],
    ];
    for (const [header, expected] of cases) {
      it(`${JSON.stringify(header)} → ${String(expected)}`, () => {
        expect(hostName(header)).to.equal(expected);
      });
    }
  });

  describe('isHostAllowed', () => {
    const allowed = (list: string[], host: string | undefined, auth = false): boolean =>
      isHostAllowed(host, hostPolicy(list, auth));

    it('by default: loopback names and IP literals (rebinding needs a DNS name)', () => {
      for (const host of [
        'localhost',
        'localhost:8001',
        'LOCALHOST',
        'localhost.',
        'app.localhost:8001',
        'a.b.localhost',
        '127.0.0.1:8001',
        '10.0.0.7',
        '192.168.1.20:8001',
        '[::1]:8001',
        '[fe80::1]',
        '[::ffff:127.0.0.1]',
      ])
        expect(allowed([], host), host).to.equal(true);
      for (const host of [
        'attacker.example',
        'attacker.example:8001',
        'localhost.attacker.example',
        'evil-localhost',
        '127.0.0.1.nip.io',
        '2130706433',
        'evil.example@localhost',
        '',
      ])
        expect(allowed([], host), host).to.equal(false);
    });

    it('no Host header (HTTP/1.0) has nothing to rebind', () => {
      expect(allowed([], undefined)).to.equal(true);
    });

    it('exact entries ignore case, port and a trailing dot', () => {
      const list = ['Scope.Example.org'];
      for (const host of ['scope.example.org', 'SCOPE.EXAMPLE.ORG:8443', 'scope.example.org.'])
        expect(allowed(list, host), host).to.equal(true);
      for (const host of ['example.org', 'cam.scope.example.org', 'scope.example.org.evil'])
        expect(allowed(list, host), host).to.equal(false);
      // Loopback and IPs still pass next to a list.
      expect(allowed(list, 'localhost:8001')).to.equal(true);
      expect(allowed(list, '10.1.2.3')).to.equal(true);
    });

    it('.suffix entries match the name and every name below it', () => {
      const list = ['.lab.example'];
      for (const host of ['lab.example', 'cam.lab.example:8001', 'a.b.LAB.example'])
        expect(allowed(list, host), host).to.equal(true);
      for (const host of ['evillab.example', 'lab.example.evil', 'example'])
        expect(allowed(list, host), host).to.equal(false);
    });

    it("'*' allows any host; an empty list allows any host when auth is on", () => {
      expect(allowed(['*'], 'attacker.example')).to.equal(true);
      expect(allowed([], 'attacker.example', true)).to.equal(true);
      // A list is a list, auth or not.
      expect(allowed(['scope.example.org'], 'attacker.example', true)).to.equal(false);
    });
  });
});
