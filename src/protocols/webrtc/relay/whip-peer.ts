import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpHeaderExtensionParameters,
  useAbsSendTime,
  useH264,
  useNACK,
  usePLI,
  useREMB,
  useSdesMid,
  useVP8,
  type RTCRtpTransceiver,
} from 'werift';
import type { VideoCodec, WebrtcParams } from '../params.js';
import { iceServersOf, onlyCandidatesOn } from '../peer.js';
import { PLAYOUT_DELAY_URI } from '../rtp-sender.js';
import type { WhipIceServer } from './whip-client.js';

/** Milliseconds to wait for ICE gathering before offering what was gathered (WHIP is non-trickle here). */
const GATHER_TIMEOUT_MS = 5000;
/** H.264 as liveview encodes it. */
const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';

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
  const hostAddresses = params.ice_host_addresses;
  const feedback = [useNACK(), usePLI(), useREMB()];
  const pc = new RTCPeerConnection({
    iceServers: [...(iceServersOf(params) ?? []), ...endpointIce],
    iceAdditionalHostAddresses: hostAddresses.length > 0 ? hostAddresses : ['127.0.0.1'],
    ...(hostAddresses.length > 0
      ? { iceInterfaceAddresses: { udp4: hostAddresses[0] }, iceUseIpv6: false, iceUseTcp: false }
      : {}),
    bundlePolicy: 'max-bundle',
    codecs: {
      video: [
        codec === 'VP8'
          ? useVP8({ rtcpFeedback: feedback })
          : useH264({ rtcpFeedback: feedback, parameters: H264_FMTP }),
      ],
    },
    headerExtensions: {
      video: [
        useSdesMid(),
        useAbsSendTime(),
        new RTCRtpHeaderExtensionParameters({ uri: PLAYOUT_DELAY_URI }),
      ],
    },
  });
  try {
    const track = new MediaStreamTrack({ kind: 'video' });
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const sdp = pc.localDescription?.sdp ?? '';
    const offer = hostAddresses.length > 0 ? onlyCandidatesOn(sdp, hostAddresses) : sdp;
    return { pc, transceiver, track, offer };
  } catch (err) {
    await pc.close().catch(() => undefined);
    throw err;
  }
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
