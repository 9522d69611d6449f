import { expect } from 'chai';
import { redirectLocation } from '../../src/api/tls.js';
import { loadConfig } from '../../src/core/container.js';
import { parseYaml } from '../../src/core/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { FIXTURES_DIR } from '../helpers/server.js';

async function problemsOf(yaml: string): Promise<string[]> {
  try {
    await loadConfig(parseYaml(yaml, 'test.yaml'), FIXTURES_DIR, {}, () => createLogger('silent'));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('server.tls config', () => {
  it('is off by default and when null', async () => {
    for (const yaml of ['', 'server: { tls: null }', 'server: { port: 8002 }']) {
      const { config } = await loadConfig(parseYaml(yaml, 't'), FIXTURES_DIR, {}, () =>
        createLogger('silent'),
      );
      expect(config.server.tls, yaml).to.equal(undefined);
    }
  });

  it('keeps the paths as written, with the redirect off by default', async () => {
    const { config } = await loadConfig(
      parseYaml('server: { tls: { cert: a.pem, key: /etc/b.key } }', 't'),
      FIXTURES_DIR,
      {},
      () => createLogger('silent'),
    );
    expect({ ...config.server.tls }).to.deep.equal({
      cert: 'a.pem',
      key: '/etc/b.key',
      redirect_port: 0,
    });
  });

  const cases: [string, string, string[]][] = [
    ['not a mapping', 'server: { tls: yes }', ['server.tls: must be a mapping']],
    [
      'empty',
      'server: { tls: {} }',
      ['server.tls.cert: must be a non-empty string', 'server.tls.key: must be a non-empty string'],
    ],
    [
      'unknown key',
      'server: { tls: { cert: a, key: b, ca: c } }',
      ['server.tls.ca: unknown key (known keys: cert, key, redirect_port)'],
    ],
    [
      'redirect port out of range',
      'server: { tls: { cert: a, key: b, redirect_port: 70000 } }',
      ['server.tls.redirect_port: must be an integer between 0 and 65535'],
    ],
    [
      'prototype key, reported once',
      'server: { tls: { cert: a, key: b, constructor: 1 } }',
      ['server.tls.constructor: this key name is not allowed'],
    ],
    [
      'with a server problem, both reported',
      'server: { port: -1, tls: { cert: 1, key: b } }',
      [
        'server.port: must be an integer between 0 and 65535',
        'server.tls.cert: must be a non-empty string',
      ],
    ],
  ];
  for (const [name, yaml, expected] of cases) {
    it(name, async () => {
      expect(await problemsOf(yaml)).to.deep.equal(expected);
    });
  }
});

describe('redirectLocation', () => {
  const cases: [string | undefined, string | undefined, number, string | undefined][] = [
    ['example.org', '/a/b?c=d', 8443, 'https://example.org:8443/a/b?c=d'],
    ['Example.ORG:80', '/', 443, 'https://example.org/'],
    ['192.168.1.20:8080', '/liveview', 8001, 'https://192.168.1.20:8001/liveview'],
    ['[fe80::1]:80', '/x', 8001, 'https://[fe80::1]:8001/x'],
    ['scope.local.', '//evil.example/x', 8001, 'https://scope.local.:8001//evil.example/x'],
    ['pi', 'http://other.example:81/p?q', 8001, 'https://pi:8001/p?q'],
    ['pi', '*', 8001, 'https://pi:8001/'],
    [undefined, '/', 8001, undefined],
    ['', '/', 8001, undefined],
    ['evil.example/x', '/', 8001, undefined],
    ['user@evil.example', '/', 8001, undefined],
    ['evil.example:80:81', '/', 8001, undefined],
    ['evil.example:abc', '/', 8001, undefined],
    ['[::1', '/', 8001, undefined],
    ['[not-ip]', '/', 8001, undefined],
    ['-bad.example', '/', 8001, undefined],
    ['a..b', '/', 8001, undefined],
    ['x'.repeat(254), '/', 8001, undefined],
    ['h\u00e9te', '/', 8001, undefined],
  ];
  for (const [host, target, port, expected] of cases) {
    it(`Host ${JSON.stringify(host)} ${target} -> ${expected ?? 'refused'}`, () => {
      expect(redirectLocation(host, target, port)).to.equal(expected);
    });
  }
});
