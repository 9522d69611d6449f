import { expect } from 'chai';
import { RTCPeerConnection } from 'werift';
import { disableDefaultStunServer } from '../../src/protocols/webrtc/no-default-stun.js';

/** The ICE connections of a werift peer (internals: what the patch changes). */
function iceConnections(pc: RTCPeerConnection): { stunServer?: unknown }[] {
  const transports = (
    pc as unknown as { iceTransports: { connection: { stunServer?: unknown } }[] }
  ).iceTransports;
  return transports.map((t) => t.connection);
}

describe('WebRTC: no public STUN server unless one is configured', () => {
  it("werift's fallback to stun.l.google.com is gone; a configured STUN server is kept", async () => {
    expect(disableDefaultStunServer()).to.equal(true);
    const bare = new RTCPeerConnection({ iceServers: [] });
    const configured = new RTCPeerConnection({
      iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
    });
    try {
      bare.addTransceiver('video', { direction: 'sendonly' });
      configured.addTransceiver('video', { direction: 'sendonly' });
      await bare.setLocalDescription(await bare.createOffer());
      // Not gathered: the unreachable server would only make the test wait for werift's timeout.
      await configured.createOffer();
      const bareServers = iceConnections(bare).map((c) => c.stunServer);
      expect(bareServers.length).to.be.greaterThan(0);
      expect(bareServers).to.deep.equal(bareServers.map(() => undefined));
      expect(iceConnections(configured).map((c) => c.stunServer)).to.deep.include([
        '127.0.0.1',
        3478,
      ]);
    } finally {
      await bare.close();
      await configured.close();
    }
  });
});
