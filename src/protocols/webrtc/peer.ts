import {
  MediaStreamTrack,
  RTCPeerConnection,
  useAbsSendTime,
  useH264,
  useNACK,
  usePLI,
  useREMB,
  useSdesMid,
  useVP8,
  type PeerConfig,
} from 'werift';
import { BadRequestError, errorMessage } from '../../index.js';
import type { VideoCodec, WebrtcParams } from './params.js';

/** Milliseconds to wait for ICE gathering before answering with what was gathered. */
const GATHER_TIMEOUT_MS = 5000;
/** Constrained baseline, packetization mode 1: what every browser decodes in hardware or software. */
const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';

/** The codecs a browser's offer accepts for video, in the offer's order. */
export function offeredVideoCodecs(sdp: string): VideoCodec[] {
  const video = sdp
    .split(/\r?\nm=/)
    .find((section) => section.startsWith('video') || section.startsWith('m=video'));
  if (!video) return [];
  const found: VideoCodec[] = [];
  for (const m of video.matchAll(/a=rtpmap:(\d+) (VP8|H264)\/90000/gi)) {
    const name = m[2].toUpperCase() as VideoCodec;
    if (name === 'H264') {
      // Only packetization mode 1 (FU-A) is what we send.
      const fmtp = new RegExp(`a=fmtp:${m[1]} ([^\\r\\n]*)`).exec(video)?.[1] ?? '';
      if (!/packetization-mode=1/.test(fmtp)) continue;
    }
    if (!found.includes(name)) found.push(name);
  }
  return found;
}

/** Checks an SDP offer enough to give a clear message; throws BadRequestError. */
export function checkOffer(sdp: unknown): string {
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) {
    throw new BadRequestError('malformed SDP offer: it must be SDP text starting with "v=0"');
  }
  if (!/\r?\nm=video /.test(sdp)) {
    throw new BadRequestError(
      'the SDP offer has no video section (m=video): add a video transceiver (recvonly)',
    );
  }
  return sdp;
}

/** Picks the stream's preferred codec if the offer has it, else another it has. */
export function chooseCodec(sdp: string, preferred: VideoCodec): VideoCodec {
  const offered = offeredVideoCodecs(sdp);
  if (offered.includes(preferred)) return preferred;
  if (offered.length > 0) return offered[0];
  throw new BadRequestError(
    'the SDP offer accepts neither VP8 nor H.264 (packetization-mode=1) video',
  );
}

/** ICE servers of a stream's params, as RTCIceServer objects. */
export function iceServersOf(params: WebrtcParams): PeerConfig['iceServers'] {
  return [
    ...params.stun_servers.map((urls) => ({ urls })),
    ...params.turn_servers.flatMap((t) =>
      t.urls.map((urls) => ({ urls, username: t.username, credential: t.credential })),
    ),
  ];
}

/** What answering an offer made: the peer, its sending track and the answer. */
export interface AnsweredPeer {
  pc: RTCPeerConnection;
  track: MediaStreamTrack;
  sender: import('werift').RTCRtpSender;
  receiver: import('werift').RTCRtpReceiver;
  codec: VideoCodec;
  answer: string;
}

/** Creates a send-only peer for an offer and answers it once ICE gathering is complete (non-trickle). */
export async function answerOffer(offerSdp: string, params: WebrtcParams): Promise<AnsweredPeer> {
  const codec = chooseCodec(offerSdp, params.codec);
  const hostAddresses = params.ice_host_addresses;
  const pc = new RTCPeerConnection({
    iceServers: iceServersOf(params),
    // Loopback is not gathered by default; a viewer on the same machine needs it.
    iceAdditionalHostAddresses: hostAddresses.length > 0 ? hostAddresses : ['127.0.0.1'],
    ...(hostAddresses.length > 0
      ? { iceInterfaceAddresses: { udp4: hostAddresses[0] }, iceUseIpv6: false, iceUseTcp: false }
      : {}),
    bundlePolicy: 'max-bundle',
    codecs: {
      video: [
        codec === 'VP8'
          ? useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })
          : useH264({ rtcpFeedback: [useNACK(), usePLI(), useREMB()], parameters: H264_FMTP }),
      ],
    },
    headerExtensions: { video: [useSdesMid(), useAbsSendTime()] },
  });
  try {
    try {
      const remoteAllowed = params.ice_remote_addresses;
      const offer = remoteAllowed.length > 0 ? onlyCandidatesOn(offerSdp, remoteAllowed) : offerSdp;
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    } catch (err) {
      throw new BadRequestError(`malformed SDP offer: ${errorMessage(err)}`);
    }
    const transceiver = pc.getTransceivers().find((t) => t.kind === 'video');
    if (!transceiver) throw new BadRequestError('the SDP offer has no usable video section');
    const track = new MediaStreamTrack({ kind: 'video' });
    transceiver.setDirection('sendonly');
    await transceiver.sender.replaceTrack(track);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    const sdp = pc.localDescription?.sdp ?? '';
    const answer = hostAddresses.length > 0 ? onlyCandidatesOn(sdp, hostAddresses) : sdp;
    return {
      pc,
      track,
      sender: transceiver.sender,
      receiver: transceiver.receiver,
      codec,
      answer,
    };
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

/** Drops candidates on other addresses (werift lists every interface even when bound to one). */
export function onlyCandidatesOn(sdp: string, addresses: string[]): string {
  return sdp
    .split('\r\n')
    .filter((line) => {
      const m = /^a=candidate:\S+ \d+ \S+ \d+ (\S+) /.exec(line);
      return !m || addresses.includes(m[1]);
    })
    .join('\r\n');
}
