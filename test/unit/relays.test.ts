import { expect } from 'chai';
import { RtpHeader, RtpPacket } from 'werift';
import { parseYaml } from '../../src/core/config.js';
import { loadConfig } from '../../src/core/container.js';
import { ConfigError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { mountpointIdOf } from '../../src/protocols/webrtc/relay/janus-mountpoint.js';
import { PlainRtpWriter } from '../../src/protocols/webrtc/relay/plain-rtp.js';
import { parseIceLinks } from '../../src/protocols/webrtc/relay/whip-client.js';
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

describe('relays', () => {
  describe('relays: in the config', () => {
    it('reads a janus and a whip relay with their defaults', async () => {
      const { config } = await loadConfig(
        parseYaml(
          `
relays:
  hall: { detector: Camera, janus: { servers: [ { url: 'http://edge1:8088/janus' } ] } }
  remote: { detector: Camera, codec: VP8, whip: { url: 'https://ingest.example.org/whip', bearer_token: t } }
`,
          'test.yaml',
        ),
        FIXTURES_DIR,
        {},
        () => createLogger('silent'),
      );
      const [hall, remote] = config.relays;
      expect(hall.name).to.equal('hall');
      expect(hall.config.codec).to.equal('H264');
      expect(hall.config.janus).to.deep.include({
        payload_type: 96,
        keyframe_interval_ms: 2000,
        poll_interval_ms: 2000,
        metadata: true,
        is_private: false,
      });
      expect(hall.config.janus?.servers[0]).to.deep.include({ video_port: 0, data_port: 0 });
      expect(remote.config.whip).to.deep.include({
        bearer_token: 't',
        reconnect_min_ms: 1000,
        reconnect_max_ms: 30_000,
      });
    });

    const CASES: [string, string, string[]][] = [
      [
        'neither janus nor whip',
        'relays: { hall: { detector: Camera } }',
        [
          "relays.hall: needs exactly one of 'janus' (feed Janus servers) and 'whip' (publish to a WHIP endpoint)",
        ],
      ],
      [
        'an unknown detector',
        "relays: { hall: { detector: Nope, whip: { url: 'http://x/whip' } } }",
        ["relays.hall.detector: unknown detector 'Nope' (detectors: Camera)"],
      ],
      [
        'a server without url, a bad codec',
        'relays: { hall: { detector: Camera, codec: AV1, janus: { servers: [ { bind: lo } ] } } }',
        [
          'relays.hall.codec: must be one of: H264, VP8',
          'relays.hall.janus.servers[0].url: must be an http:// or https:// URL',
        ],
      ],
      [
        'no servers',
        'relays: { hall: { detector: Camera, janus: { poll_interval_ms: 10 } } }',
        [
          'relays.hall.janus.poll_interval_ms: must be an integer between 200 and 30000',
          'relays.hall.janus.servers: must be a list of Janus servers, each with its url',
        ],
      ],
      [
        'a WHIP backoff upside down and an unknown key',
        "relays: { out: { detector: Camera, whip: { url: 'http://x/whip', reconnect_min_ms: 5000, reconnect_max_ms: 1000, token: t } } }",
        [
          'relays.out.whip.token: unknown key (known keys: url, bearer_token, reconnect_min_ms, reconnect_max_ms, request_timeout_ms)',
        ],
      ],
      [
        'a WHIP backoff upside down',
        "relays: { out: { detector: Camera, whip: { url: 'http://x/whip', reconnect_min_ms: 5000, reconnect_max_ms: 1000 } } }",
        ['relays.out.whip.reconnect_max_ms: must be at least reconnect_min_ms'],
      ],
      [
        'a name with a space',
        "relays: { 'my relay': { detector: Camera, whip: { url: 'http://x/whip' } } }",
        ["relays.my relay: a relay name may only contain letters, digits, '_', '-' and '.'"],
      ],
      ['not a mapping', 'relays: [a, b]', ['relays: must be a mapping of relay names to relays']],
    ];
    for (const [what, yaml, problems] of CASES) {
      it(`refuses ${what}, naming the key`, async () => {
        expect(await problemsOf(yaml)).to.deep.equal(problems);
      });
    }
  });

  describe('WHIP Link headers', () => {
    it('reads STUN and TURN servers with credentials, and ignores other links', () => {
      expect(
        parseIceLinks([
          '<stun:stun.example.net>; rel="ice-server", <turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="p,w"; credential-type="password"',
          '</whip/session/1/layer>; rel="urn:ietf:params:whip:ext:example:simulcast"',
        ]),
      ).to.deep.equal([
        { urls: 'stun:stun.example.net' },
        { urls: 'turn:turn.example.net?transport=udp', username: 'user', credential: 'p,w' },
      ]);
    });

    it('finds nothing in an empty or broken header', () => {
      expect(parseIceLinks([''])).to.deep.equal([]);
      expect(parseIceLinks(['<stun:x'])).to.deep.equal([]);
      expect(parseIceLinks(['<http://x/>; rel="ice-server"'])).to.deep.equal([]);
    });
  });

  describe('plain RTP', () => {
    it('rewrites SSRC, payload type and sequence, and keeps marker and timestamp', () => {
      const writer = new PlainRtpWriter(111);
      const packet = (marker: boolean) =>
        new RtpPacket(
          new RtpHeader({
            payloadType: 96,
            sequenceNumber: 7,
            timestamp: 0xdeadbeef,
            ssrc: 1,
            marker,
          }),
          Buffer.from([1, 2, 3]),
        );
      const a = RtpHeader.deSerialize(
        Buffer.concat([writer.header(packet(false)), Buffer.from([1])]),
      );
      const b = RtpHeader.deSerialize(
        Buffer.concat([writer.header(packet(true)), Buffer.from([1])]),
      );
      expect(a).to.deep.include({
        version: 2,
        payloadType: 111,
        timestamp: 0xdeadbeef,
        marker: false,
      });
      expect(a.ssrc).to.equal(writer.ssrc);
      expect(b.marker).to.equal(true);
      expect(b.sequenceNumber).to.equal((a.sequenceNumber + 1) & 0xffff);
    });
  });

  describe('Janus mountpoint ids', () => {
    it('are stable per name, positive 31-bit integers, and differ between names', () => {
      expect(mountpointIdOf('hall')).to.equal(mountpointIdOf('hall'));
      expect(mountpointIdOf('hall')).to.not.equal(mountpointIdOf('hall2'));
      for (const name of ['a', 'hall', 'x'.repeat(64)]) {
        const id = mountpointIdOf(name);
        expect(Number.isInteger(id) && id >= 1 && id < 2 ** 31).to.equal(true);
      }
    });
  });
});
