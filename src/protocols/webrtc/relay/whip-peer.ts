import { MediaStreamTrack, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import type { VideoCodec, WebrtcParams } from '../params.js';
import { createSendingPeer, gatheredDescription, iceServersOf } from '../peer.js';
import type { WhipIceServer } from './whip-client.js';

/** A send-only peer that offers one video track in one codec, for publishing. */
export interface PublisherPeer {
  pc: RTCPeerConnection;
  transceiver: RTCRtpTransceiver;
  track: MediaStreamTrack;
  /** The offer, ICE gathering complete. */
  offer: string;
}

/**
 * Creates the publishing side of a WHIP session: a send-only video transceiver in the relay's
 * codec (NACK, PLI and REMB feedback; mid and abs-send-time extensions), ICE as the stream's
 * params configure it plus the endpoint's ICE servers, and the complete offer.
 */
export async function createPublisherPeer(
  codec: VideoCodec,
  params: WebrtcParams,
  endpointIce: WhipIceServer[],
): Promise<PublisherPeer> {
  const pc = createSendingPeer(codec, params, [...(iceServersOf(params) ?? []), ...endpointIce]);
  try {
    const track = new MediaStreamTrack({ kind: 'video' });
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const offer = await gatheredDescription(pc, params.ice_host_addresses);
    return { pc, transceiver, track, offer };
  } catch (err) {
    await pc.close().catch(() => undefined);
    throw err;
  }
}
